<?php

// Router for `php -S`: records each POST (the server's webhook deliveries) as a JSON file in FTMV_HOOKS_DIR.
$dir = getenv('FTMV_HOOKS_DIR');
$record = [
    'path' => $_SERVER['REQUEST_URI'],
    'signature' => $_SERVER['HTTP_X_FTMV_SIGNATURE'] ?? null,
    'body' => base64_encode(file_get_contents('php://input')),
];
file_put_contents("$dir/" . uniqid('hook', true) . '.json', json_encode($record));
http_response_code(204);
