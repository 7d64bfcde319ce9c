<?php
// Test driver: php call.php <Function> < params.json  -> the module's return as JSON.
// Loads the module the way WHMCS does (the WHMCS constant defined, WHMCS's documented
// classes present — and only those) and calls tunnus_<Function>($params). Exits 3 when
// the module used anything WHMCS does not document, 2 when it lacks the function.
define('WHMCS', true);
require __DIR__ . '/whmcs_sdk.php';
require __DIR__ . '/../modules/registrars/tunnus/tunnus.php';

if ($argv[1] === '--additionalfields') {  // the TLD fields, as WHMCS includes the file
    $additionaldomainfields = [];
    include __DIR__ . '/../modules/registrars/tunnus/resources/domains/additionalfields.php';
    echo json_encode(['defined' => true, 'result' => $additionaldomainfields, 'thrown' => null]), "\n";
    exit(0);
}
$function = 'tunnus_' . $argv[1];
$params = json_decode(stream_get_contents(STDIN), true);
if (!function_exists($function)) {
    echo json_encode(['defined' => false]), "\n";
    exit(0);
}
$error = null;
try {
    $result = $params === null ? $function() : $function($params);
} catch (Throwable $thrown) {  // _config_validate refuses by throwing
    $result = null;
    $error = ['class' => get_class($thrown), 'message' => $thrown->getMessage()];
}
if (\WHMCS\Harness\Violations::$found) {
    fwrite(STDERR, "undocumented WHMCS API used: " . implode(', ', \WHMCS\Harness\Violations::$found) . "\n");
    exit(3);
}
echo json_encode(['defined' => true, 'result' => $result, 'thrown' => $error]), "\n";
