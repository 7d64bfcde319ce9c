<?php
// The WHMCS domain-lookup classes a registrar module's CheckAvailability fills
// (WHMCS\Domains\DomainLookup\ResultsList and SearchResult, as in WHMCS's developer docs),
// reduced to what they record, so tests can read what the module reported. Loaded by
// call.php only when TUNNUS_WHMCS_LOOKUP is set; the module itself never needs it.
namespace WHMCS\Domains\DomainLookup;

class ResultsList extends \ArrayObject implements \JsonSerializable
{
    public function jsonSerialize(): mixed
    {
        return $this->getArrayCopy();
    }
}

class SearchResult implements \JsonSerializable
{
    const STATUS_REGISTERED = 'registered';
    const STATUS_NOT_REGISTERED = 'available';
    const STATUS_RESERVED = 'reserved';

    private $data;

    public function __construct($sld, $tld)
    {
        $this->data = ['sld' => $sld, 'tld' => $tld, 'status' => null, 'premium' => false,
                       'premiumCostPricing' => null];
    }

    public function setStatus($status)
    {
        $this->data['status'] = $status;
    }

    public function setPremiumDomain($premium)
    {
        $this->data['premium'] = (bool) $premium;
    }

    public function setPremiumCostPricing(array $pricing)
    {
        $this->data['premiumCostPricing'] = $pricing;
    }

    public function jsonSerialize(): mixed
    {
        return $this->data;
    }
}
