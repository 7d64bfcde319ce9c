<?php
/**
 * Tunnus registrar module for WHMCS (7.10 or later).
 *
 * Install: copy this folder to <whmcs>/modules/registrars/tunnus/, activate "Tunnus" under
 * System Settings > Domain Registrars, and fill in ApiUrl, ClientId and ClientSecret (an
 * OAuth2 client created in the Tunnus client area under API credentials, with the scopes
 * domains:read domains:write dns:read dns:write).
 *
 * Every function forwards WHMCS's params to POST {ApiUrl}/whmcs/v1/<Function> with a
 * client-credentials bearer token and turns the JSON answer into WHMCS's documented
 * return. Functions Tunnus cannot honour (email forwarding,
 * .uk release) are not defined, which WHMCS reports as "Registrar Function Not Supported".
 * TLD fields (.fi, .se, .nu, .eu) are in resources/domains/additionalfields.php.
 *
 * Reference: developers.whmcs.com, Domain Registrars (module parameters, function index,
 * availability checks, domain information, TLD & pricing sync, config validation).
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Carbon;
use WHMCS\Domain\Registrar\Domain;
use WHMCS\Domain\TopLevel\ImportItem;
use WHMCS\Domains\DomainLookup\ResultsList;
use WHMCS\Domains\DomainLookup\SearchResult;
use WHMCS\Exception\Module\InvalidConfiguration;

const TUNNUS_MODULE_VERSION = '2.0.0';

function tunnus_MetaData()
{
    return [
        'DisplayName' => 'Tunnus',
        'APIVersion' => '1.1',
    ];
}

function tunnus_getConfigArray()
{
    return [
        'FriendlyName' => ['Type' => 'System', 'Value' => 'Tunnus'],
        'ApiUrl' => [
            'FriendlyName' => 'API URL',
            'Type' => 'text',
            'Size' => '60',
            'Default' => '',
            'Description' => 'The Tunnus base URL, e.g. https://tunnus.example.com',
        ],
        'ClientId' => [
            'FriendlyName' => 'OAuth2 client ID',
            'Type' => 'text',
            'Size' => '40',
            'Default' => '',
            'Description' => 'From the Tunnus client area: API credentials',
        ],
        'ClientSecret' => [
            'FriendlyName' => 'OAuth2 client secret',
            'Type' => 'password',
            'Size' => '60',
            'Default' => '',
            'Description' => 'Shown once when the client is created',
        ],
        'DesignatedAgent' => [
            'FriendlyName' => 'Designated Agent',
            'Type' => 'yesno',
            'Description' => 'Tick only if your terms of service give you your customers\' '
                . 'explicit authority to approve a change of registrant for them (ICANN '
                . 'Transfer Policy). Otherwise the current registrant confirms each owner '
                . 'change from an e-mail before it is made.',
        ],
    ];
}

/**
 * Refuse settings that cannot work before WHMCS saves them: an address that is not
 * https (plain http only to this machine), credentials Tunnus does not accept, or an
 * OAuth2 client without the scopes the module needs.
 */
function tunnus_config_validate($params)
{
    $url = (string) ($params['ApiUrl'] ?? '');
    $scheme = parse_url($url, PHP_URL_SCHEME);
    $host = parse_url($url, PHP_URL_HOST);
    $local = in_array($host, ['localhost', '127.0.0.1', '::1', '[::1]'], true);
    if (!$host || !($scheme === 'https' || ($scheme === 'http' && $local))) {
        throw new InvalidConfiguration('API URL: give your Tunnus address starting with https://');
    }
    try {
        $missing = tunnus_call('ValidateCredentials', $params)['missing_scopes'] ?? [];
    } catch (Throwable $error) {
        throw new InvalidConfiguration($error->getMessage());
    }
    if ($missing) {
        throw new InvalidConfiguration('The OAuth2 client lacks the scopes: ' . implode(' ', $missing));
    }
}

/** A bearer token for these credentials, fetched once per PHP process. */
function tunnus_token(array $params)
{
    static $tokens = [];
    $base = rtrim((string) ($params['ApiUrl'] ?? ''), '/');
    $cacheKey = $base . '|' . ($params['ClientId'] ?? '');
    if (isset($tokens[$cacheKey]) && $tokens[$cacheKey]['expires'] > time() + 30) {
        return $tokens[$cacheKey]['token'];
    }
    $answer = tunnus_http(
        $base . '/oauth/token',
        http_build_query(['grant_type' => 'client_credentials']),
        [
            'Content-Type: application/x-www-form-urlencoded',
            'Authorization: Basic ' . base64_encode(($params['ClientId'] ?? '') . ':' . ($params['ClientSecret'] ?? '')),
        ]
    );
    if (empty($answer['body']['access_token'])) {
        $reason = $answer['body']['error_description'] ?? $answer['body']['detail']
            ?? $answer['body']['error'] ?? $answer['error'] ?? ('HTTP ' . $answer['status']);
        throw new RuntimeException('Tunnus authentication failed: ' . $reason);
    }
    $tokens[$cacheKey] = [
        'token' => $answer['body']['access_token'],
        'expires' => time() + (int) ($answer['body']['expires_in'] ?? 300),
    ];
    return $tokens[$cacheKey]['token'];
}

/** POST and decode JSON: ['status' => int, 'body' => array|null, 'error' => string|null]. */
function tunnus_http($url, $body, array $headers)
{
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_HTTPHEADER => array_merge(['Accept: application/json'], $headers),
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => 10,
        CURLOPT_TIMEOUT => 60,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_USERAGENT => 'Tunnus-WHMCS/' . TUNNUS_MODULE_VERSION,
    ]);
    $raw = curl_exec($curl);
    $error = $raw === false ? curl_error($curl) : null;
    $status = (int) curl_getinfo($curl, CURLINFO_HTTP_CODE);
    curl_close($curl);
    $decoded = is_string($raw) ? json_decode($raw, true) : null;
    return ['status' => $status, 'body' => is_array($decoded) ? $decoded : null, 'error' => $error];
}

/**
 * WHMCS's params as Tunnus reads them: the values as the customer typed them (WHMCS keeps
 * those in 'original' and may strip accents from the others), without the module's
 * settings and without objects (WHMCS adds e.g. domainObj).
 */
function tunnus_payload(array $params)
{
    $payload = $params;
    if (isset($params['original']) && is_array($params['original'])) {
        foreach ($params['original'] as $key => $value) {
            if (array_key_exists($key, $payload) && !is_object($value)) {
                $payload[$key] = $value;
            }
        }
    }
    foreach (['ApiUrl', 'ClientId', 'ClientSecret', 'original'] as $private) {
        unset($payload[$private]);
    }
    return array_filter($payload, function ($value) {
        return !is_object($value) && !is_resource($value);
    });
}

/** Call one endpoint function with WHMCS's params; its answer, or an exception. */
function tunnus_call($function, array $params)
{
    $url = rtrim((string) $params['ApiUrl'], '/') . '/whmcs/v1/' . $function;
    $token = tunnus_token($params);
    $answer = tunnus_http($url, http_build_query(tunnus_payload($params)), [
        'Content-Type: application/x-www-form-urlencoded',
        'Authorization: Bearer ' . $token,
    ]);
    if (function_exists('logModuleCall')) {
        logModuleCall('tunnus', $function, '', $answer['status'] . ' ' . ($answer['error'] ?? ''));
    }
    if ($answer['body'] === null) {
        throw new RuntimeException('Tunnus did not answer (' . ($answer['error'] ?: 'HTTP ' . $answer['status']) . ')');
    }
    if (isset($answer['body']['error'])) {
        throw new RuntimeException((string) $answer['body']['error']);
    }
    if ($answer['status'] >= 400) {  // e.g. a 429 problem+json: {"detail": ...}
        throw new RuntimeException((string) ($answer['body']['detail'] ?? 'HTTP ' . $answer['status']));
    }
    return $answer['body'];
}

/** Run $call and map failures to WHMCS's ['error' => message]. */
function tunnus_guard(callable $call)
{
    try {
        return $call();
    } catch (Throwable $error) {
        return ['error' => $error->getMessage()];
    }
}

function tunnus_success($function, array $params)
{
    return tunnus_guard(function () use ($function, $params) {
        tunnus_call($function, $params);
        return ['success' => true];
    });
}

/*
 * RegisterDomain, TransferDomain and RenewDomain forward WHMCS's premiumEnabled and
 * premiumCost: Tunnus refuses a premium name when premium domains are off, and charges no
 * more than premiumCost when they are on (the error names the current price).
 */
function tunnus_RegisterDomain($params)
{
    return tunnus_success('RegisterDomain', $params);
}

function tunnus_TransferDomain($params)
{
    return tunnus_success('TransferDomain', $params);
}

function tunnus_RenewDomain($params)
{
    return tunnus_success('RenewDomain', $params);
}

function tunnus_GetNameservers($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetNameservers', $params);
        $result = [];
        foreach (['ns1', 'ns2', 'ns3', 'ns4', 'ns5'] as $key) {
            $result[$key] = (string) ($answer[$key] ?? '');
        }
        return $result;
    });
}

function tunnus_SaveNameservers($params)
{
    return tunnus_success('SaveNameservers', $params);
}

function tunnus_GetRegistrarLock($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetRegistrarLock', $params);
        return ($answer['lockstatus'] ?? '') === 'locked' ? 'locked' : 'unlocked';
    });
}

function tunnus_SaveRegistrarLock($params)
{
    return tunnus_success('SaveRegistrarLock', $params);
}

function tunnus_GetContactDetails($params)
{
    return tunnus_guard(function () use ($params) {
        return tunnus_call('GetContactDetails', $params);
    });
}

function tunnus_SaveContactDetails($params)
{
    return tunnus_success('SaveContactDetails', $params);
}

function tunnus_GetEPPCode($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetEPPCode', $params);
        return ['eppcode' => (string) ($answer['eppcode'] ?? '')];
    });
}

function tunnus_RegisterNameserver($params)
{
    return tunnus_success('RegisterNameserver', $params);
}

function tunnus_ModifyNameserver($params)
{
    return tunnus_success('ModifyNameserver', $params);
}

function tunnus_DeleteNameserver($params)
{
    return tunnus_success('DeleteNameserver', $params);
}

function tunnus_IDProtectToggle($params)
{
    return tunnus_success('IDProtectToggle', $params);
}

function tunnus_GetDNS($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetDNS', $params);
        $records = [];
        foreach ($answer['records'] ?? [] as $record) {
            $records[] = [
                'hostname' => (string) $record['hostname'],
                'type' => (string) $record['type'],
                'address' => (string) $record['address'],
                'priority' => (string) ($record['priority'] ?? ''),
            ];
        }
        return $records;
    });
}

function tunnus_SaveDNS($params)
{
    return tunnus_success('SaveDNS', $params);
}

/** CheckAvailability and GetDomainSuggestions answers as WHMCS's lookup results. */
function tunnus_search_results(array $rows)
{
    $statuses = [
        'available' => SearchResult::STATUS_NOT_REGISTERED,
        'registered' => SearchResult::STATUS_REGISTERED,
        'reserved' => SearchResult::STATUS_RESERVED,
        'tld_not_supported' => SearchResult::STATUS_TLD_NOT_SUPPORTED,
    ];
    $results = new ResultsList();
    foreach ($rows as $row) {
        // The name as WHMCS sent it (an IDN stays in the form the customer typed).
        $result = new SearchResult($row['sld'], $row['tld']);
        $result->setStatus($statuses[$row['status']] ?? SearchResult::STATUS_UNKNOWN);
        if (isset($row['score'])) {
            $result->setScore((float) $row['score']);
        }
        if (!empty($row['premium'])) {
            // Cost prices in EUR, our net price: WHMCS adds its premium markup and sends
            // the cost back as premiumCost, the most RegisterDomain/RenewDomain may then
            // charge (a premium name is refused without it).
            $result->setPremiumDomain(true);
            $result->setPremiumCostPricing([
                'register' => $row['register_price'],
                'renew' => $row['renew_price'],
                'CurrencyCode' => $row['currency'],
            ]);
        }
        $results->append($result);
    }
    return $results;
}

function tunnus_CheckAvailability($params)
{
    return tunnus_guard(function () use ($params) {
        return tunnus_search_results(tunnus_call('CheckAvailability', $params)['results'] ?? []);
    });
}

function tunnus_GetDomainSuggestions($params)
{
    return tunnus_guard(function () use ($params) {
        return tunnus_search_results(tunnus_call('GetDomainSuggestions', $params)['results'] ?? []);
    });
}

function tunnus_GetDomainInformation($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetDomainInformation', $params);
        $statuses = [
            'active' => Domain::STATUS_ACTIVE,
            'expired' => Domain::STATUS_EXPIRED,
            'suspended' => Domain::STATUS_SUSPENDED,
            'pending_delete' => Domain::STATUS_PENDING_DELETE,
            'deleted' => Domain::STATUS_DELETED,
        ];
        $date = function ($value) {
            return $value ? Carbon::createFromFormat('Y-m-d', $value) : null;
        };
        $domain = (new Domain())
            ->setDomain($answer['domain'])
            ->setNameservers($answer['nameservers'])
            ->setRegistrationStatus($statuses[$answer['status']] ?? Domain::STATUS_INACTIVE)
            ->setTransferLock((bool) $answer['transferlock'])
            ->setTransferLockExpiryDate($date($answer['transferlockexpirydate']))
            ->setExpiryDate($date($answer['expirydate']))
            ->setRestorable((bool) $answer['restorable'])
            ->setIdProtectionStatus((bool) $answer['idprotection'])
            ->setDnsManagementStatus((bool) $answer['dnsmanagement'])
            ->setEmailForwardingStatus(false)
            ->setRegistrantEmailAddress($answer['registrantemail']);
        if (!empty($answer['irtp'])) {
            // A change of registrant waits for the current registrant's confirmation
            // (Tunnus e-mails it); WHMCS shows that and offers to resend the e-mail.
            $domain->setIsIrtpEnabled(true)
                ->setIrtpTransferLock((bool) $answer['irtptransferlock'])
                ->setIrtpTransferLockExpiryDate($date($answer['irtptransferlockexpirydate']))
                ->setDomainContactChangePending((bool) $answer['contactchangepending'])
                ->setDomainContactChangeExpiryDate($date($answer['contactchangeexpirydate']))
                ->setIrtpVerificationTriggerFields($answer['irtptriggerfields']);
        }
        return $domain;
    });
}

function tunnus_ResendIRTPVerificationEmail($params)
{
    return tunnus_success('ResendIRTPVerificationEmail', $params);
}

function tunnus_RequestDelete($params)
{
    return tunnus_success('RequestDelete', $params);
}

function tunnus_Sync($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('Sync', $params);
        return [
            'expirydate' => (string) ($answer['expirydate'] ?? ''),
            'active' => (bool) ($answer['active'] ?? false),
            'expired' => (bool) ($answer['expired'] ?? false),
            'transferredAway' => (bool) ($answer['transferredAway'] ?? false),
        ];
    });
}

function tunnus_TransferSync($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('TransferSync', $params);
        if (!empty($answer['completed'])) {
            return ['completed' => true, 'expirydate' => (string) ($answer['expirydate'] ?? '')];
        }
        if (!empty($answer['failed'])) {
            return ['failed' => true, 'reason' => (string) ($answer['reason'] ?? '')];
        }
        return [];  // still pending
    });
}

/** The Registrar TLD & Pricing Sync: cost prices (EUR, net) per TLD. */
function tunnus_GetTLDPricing($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetTLDPricing', $params);
        $results = new \WHMCS\Results\ResultsList();
        $money = function ($value) {
            return $value === null ? null : (float) $value;
        };
        foreach ($answer['pricing'] ?? [] as $row) {
            $item = (new ImportItem())
                ->setExtension($row['extension'])
                ->setMinYears((int) $row['min_years'])
                ->setMaxYears((int) $row['max_years'])
                ->setYearsStep((int) $row['years_step'])
                ->setRegisterPrice($money($row['register']))
                ->setRenewPrice($money($row['renew']))
                ->setTransferPrice($money($row['transfer']))
                ->setCurrency($row['currency'])
                ->setEppRequired((bool) $row['epp_required']);
            if ($row['grace_fee'] !== null) {
                $item->setGraceFeeDays((int) $row['grace_days'])
                    ->setGraceFeePrice($money($row['grace_fee']));
            }
            if ($row['redemption_fee'] !== null) {
                $item->setRedemptionFeeDays((int) $row['redemption_days'])
                    ->setRedemptionFeePrice($money($row['redemption_fee']));
            }
            $results[] = $item;
        }
        return $results;
    });
}
