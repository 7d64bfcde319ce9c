<?php
/**
 * Tunnus registrar module for WHMCS.
 *
 * Install: copy this folder to <whmcs>/modules/registrars/tunnus/, activate "Tunnus" under
 * System Settings > Domain Registrars, and fill in ApiUrl, ClientId and ClientSecret (an
 * OAuth2 client created in the Tunnus client area under API credentials, with the scopes
 * domains:read domains:write dns:read dns:write).
 *
 * Every function forwards WHMCS's params to POST {ApiUrl}/whmcs/v1/<Function> with a
 * client-credentials bearer token and turns the JSON answer into what WHMCS expects.
 * The file loads without WHMCS (WHMCS classes are used only when they exist).
 */

if (!defined('WHMCS') && !defined('TUNNUS_STANDALONE')) {
    define('TUNNUS_STANDALONE', true);
}

const TUNNUS_MODULE_VERSION = '1.0.0';

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
    ];
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
        $reason = $answer['body']['error_description'] ?? $answer['body']['error'] ?? $answer['error'] ?? 'no token';
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

/** Call one endpoint function with WHMCS's params (module settings are not sent). */
function tunnus_call($function, array $params)
{
    $payload = $params;
    foreach (['ApiUrl', 'ClientId', 'ClientSecret', 'original'] as $private) {
        unset($payload[$private]);
    }
    $url = rtrim((string) $params['ApiUrl'], '/') . '/whmcs/v1/' . $function;
    $token = tunnus_token($params);
    $answer = tunnus_http($url, http_build_query($payload), [
        'Content-Type: application/x-www-form-urlencoded',
        'Authorization: Bearer ' . $token,
    ]);
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
        if (function_exists('logModuleCall')) {
            logModuleCall('tunnus', 'error', '', $error->getMessage());
        }
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

function tunnus_CheckAvailability($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('CheckAvailability', $params);
        $rows = $answer['results'] ?? [];
        if (!class_exists('\WHMCS\Domains\DomainLookup\ResultsList')) {
            return $rows;  // outside WHMCS (tests, scripts): plain arrays
        }
        $results = new \WHMCS\Domains\DomainLookup\ResultsList();
        foreach ($rows as $row) {
            $result = new \WHMCS\Domains\DomainLookup\SearchResult($row['sld'], $row['tld']);
            $result->setStatus($row['status'] === 'available'
                ? \WHMCS\Domains\DomainLookup\SearchResult::STATUS_NOT_REGISTERED
                : \WHMCS\Domains\DomainLookup\SearchResult::STATUS_REGISTERED);
            if (!empty($row['premium'])) {
                // Cost prices in EUR, our net price: WHMCS adds its premium markup and
                // sends the cost back as premiumCost, the most RegisterDomain/RenewDomain
                // may then charge (a premium name is refused without it).
                $result->setPremiumDomain(true);
                $result->setPremiumCostPricing([
                    'register' => $row['price'],
                    'renew' => $row['renew_price'] ?? $row['price'],
                    'CurrencyCode' => $row['currency'],
                ]);
            }
            $results->append($result);
        }
        return $results;
    });
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

function tunnus_GetTLDPricing($params)
{
    return tunnus_guard(function () use ($params) {
        $answer = tunnus_call('GetTLDPricing', $params);
        $rows = $answer['pricing'] ?? [];
        if (!class_exists('\WHMCS\Results\ResultsList')) {
            return $rows;  // outside WHMCS: plain arrays
        }
        $results = new \WHMCS\Results\ResultsList();
        foreach ($rows as $row) {
            $years = array_map('intval', $row['years'] ?? [1]);
            $item = (new \WHMCS\Domain\TopLevel\ImportItem())
                ->setExtension($row['tld'])
                ->setYears($years)
                ->setRegisterPrice($row['register'][(string) min($years)] ?? null)
                ->setRenewPrice($row['renew'][(string) min($years)] ?? null)
                ->setTransferPrice($row['transfer']['1'] ?? null)
                ->setCurrency($row['currency'] ?? 'EUR');
            $results[] = $item;
        }
        return $results;
    });
}
