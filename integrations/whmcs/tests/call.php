<?php
// Test driver: php call.php <Function> < params.json  -> prints the module's return as JSON.
// The module is loaded exactly as WHMCS would load it (no WHMCS classes present).
require __DIR__ . '/../modules/registrars/tunnus/tunnus.php';
if (getenv('TUNNUS_WHMCS_LOOKUP')) {
    require __DIR__ . '/whmcs_lookup.php';  // WHMCS's lookup result classes
}

$function = 'tunnus_' . $argv[1];
$params = json_decode(stream_get_contents(STDIN), true);
if (!function_exists($function)) {
    fwrite(STDERR, "no such module function: $function\n");
    exit(2);
}
$result = $params === null ? $function() : $function($params);
echo json_encode(['result' => $result]), "\n";
