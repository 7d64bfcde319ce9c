<?php
/*
 * The WHMCS classes a registrar module may use, with ONLY the constants and methods
 * WHMCS documents for them (developers.whmcs.com: Domain Registrars > Availability
 * Checks, Domain Information, TLD & Pricing Sync, Module Configuration Validation; the
 * class reference for WHMCS\Domains\DomainLookup\SearchResult, WHMCS\Domain\Registrar\Domain
 * and WHMCS\Domain\TopLevel\ImportItem). They record what the module set so the tests
 * can read it back. A call to an undocumented method, or the use of any other WHMCS
 * class, is recorded as a violation and fails the test (call.php exits non-zero).
 */

namespace WHMCS\Harness {
    final class Violations
    {
        public static $found = [];

        public static function add($what)
        {
            self::$found[] = $what;
            throw new \BadMethodCallException("not in the WHMCS documentation: $what");
        }
    }

    /** Documented setters record their value; getters read it back; nothing else exists. */
    trait Documented
    {
        protected $values = [];

        public function __call($method, $args)
        {
            $name = static::class . '::' . $method;
            if (!in_array($method, static::DOCUMENTED, true)) {
                Violations::add($name);
            }
            $field = lcfirst(substr($method, 3));
            if (strncmp($method, 'set', 3) === 0) {
                if (count($args) !== 1) {
                    Violations::add("$name with " . count($args) . ' arguments');
                }
                $this->values[$field] = $args[0];
                return $this;
            }
            return $this->values[$field] ?? null;
        }

        public static function __callStatic($method, $args)
        {
            Violations::add(static::class . '::' . $method . ' (static)');
        }

        public function jsonSerialize(): mixed
        {
            $out = ['class' => static::class];
            foreach ($this->values as $field => $value) {
                $out[$field] = $value instanceof \DateTimeInterface ? $value->format('Y-m-d') : $value;
            }
            return $out;
        }
    }

    // Any other WHMCS class the module names is not part of the contract.
    spl_autoload_register(function ($class) {
        if (strncmp(ltrim($class, '\\'), 'WHMCS\\', 6) === 0) {
            Violations::$found[] = "class $class";
        }
    });
}

namespace WHMCS {
    /** WHMCS\Carbon (a Carbon date): modules build dates with createFromFormat. */
    class Carbon extends \DateTime
    {
        public static function createFromFormat($format, $datetime, $timezone = null): static|false
        {
            $parsed = \DateTime::createFromFormat($format, $datetime, $timezone);
            return $parsed === false ? false : new static($parsed->format('Y-m-d H:i:s'));
        }
    }
}

namespace WHMCS\Exception\Module {
    /** Thrown by _config_validate to refuse the settings (the message is shown). */
    class InvalidConfiguration extends \Exception
    {
    }
}

namespace WHMCS\Domains\DomainLookup {
    /** "An ArrayObject based collection of SearchResult results". */
    class ResultsList extends \ArrayObject implements \JsonSerializable
    {
        public function jsonSerialize(): mixed
        {
            return $this->getArrayCopy();
        }
    }

    class SearchResult implements \JsonSerializable
    {
        use \WHMCS\Harness\Documented;

        const STATUS_REGISTERED = 'registered';
        const STATUS_NOT_REGISTERED = 'available';
        const STATUS_RESERVED = 'reserved';
        const STATUS_UNKNOWN = 'unknown';
        const STATUS_TLD_NOT_SUPPORTED = 'tld_not_supported';
        const DOCUMENTED = ['setStatus', 'getStatus', 'setScore', 'getScore',
            'setPremiumDomain', 'isPremium', 'setPremiumCostPricing', 'getPremiumCostPricing'];

        public function __construct($sld, $tld)
        {
            $this->values = ['sld' => $sld, 'tld' => $tld];
        }
    }
}

namespace WHMCS\Domain\Registrar {
    class Domain implements \JsonSerializable
    {
        use \WHMCS\Harness\Documented;

        const STATUS_ACTIVE = 'Active';
        const STATUS_ARCHIVED = 'Archived';
        const STATUS_DELETED = 'Deleted';
        const STATUS_EXPIRED = 'Expired';
        const STATUS_INACTIVE = 'Inactive';
        const STATUS_SUSPENDED = 'Suspended';
        const STATUS_PENDING_DELETE = 'Pending Delete';
        const DOCUMENTED = ['setDomain', 'getDomain', 'setNameservers', 'getNameservers',
            'setRegistrationStatus', 'getRegistrationStatus', 'setTransferLock',
            'getTransferLock', 'setTransferLockExpiryDate', 'getTransferLockExpiryDate',
            'setExpiryDate', 'getExpiryDate', 'setRestorable', 'getRestorable',
            'setIdProtectionStatus', 'getIdProtectionStatus', 'setDnsManagementStatus',
            'getDnsManagementStatus', 'setEmailForwardingStatus', 'getEmailForwardingStatus',
            'setIsIrtpEnabled', 'isIrtpEnabled', 'setIrtpOptOutStatus', 'getIrtpOptOutStatus',
            'setIrtpTransferLock', 'getIrtpTransferLock', 'setIrtpTransferLockExpiryDate',
            'getIrtpTransferLockExpiryDate', 'setDomainContactChangePending',
            'isContactChangePending', 'setDomainContactChangeExpiryDate',
            'getDomainContactChangeExpiryDate', 'setPendingSuspension', 'getPendingSuspension',
            'setIrtpVerificationTriggerFields', 'getIrtpVerificationTriggerFields',
            'setRegistrantEmailAddress', 'getRegistrantEmailAddress'];
    }
}

namespace WHMCS\Results {
    class ResultsList extends \ArrayObject implements \JsonSerializable
    {
        public function jsonSerialize(): mixed
        {
            return $this->getArrayCopy();
        }
    }
}

namespace WHMCS\Domain\TopLevel {
    class ImportItem implements \JsonSerializable
    {
        use \WHMCS\Harness\Documented;

        const DOCUMENTED = ['setExtension', 'setMinYears', 'setMaxYears', 'setYearsStep',
            'setRegisterPrice', 'setRenewPrice', 'setTransferPrice', 'setGraceFeeDays',
            'setGraceFeePrice', 'setRedemptionFeeDays', 'setRedemptionFeePrice',
            'setCurrency', 'setEppRequired'];
    }
}

namespace {
    /** WHMCS's module log (documented for modules: logModuleCall). */
    function logModuleCall($module, $action, $request, $response, $data = '', $replace = [])
    {
        $GLOBALS['whmcs_module_log'][] = [$module, $action];
    }
}
