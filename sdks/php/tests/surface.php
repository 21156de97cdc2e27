<?php

// Prints the SDK's API surface as JSON for the contract test (tests/sdks/test_contract.py), by reflection:
// the operation and error tables the client uses, every model's constructor (its properties, and which
// have no default), and the literal types in the docblocks of generate() and Order.

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

use Ftmv\Client;
use Ftmv\Exception\ApiException;

function snake(string $name): string
{
    return strtolower(preg_replace('/[A-Z]/', '_$0', $name));
}

/** @return array<string, list<string>> parameter => its string literals, from "@param 'a'|'b'|null $name" */
function literals(ReflectionMethod $method): array
{
    preg_match_all('/@param\s+((?:\'[^\']*\'\|?)+)(?:\|?null)?\s+\$(\w+)/', (string) $method->getDocComment(), $found, PREG_SET_ORDER);
    $out = [];
    foreach ($found as [, $union, $name]) {
        preg_match_all("/'([^']*)'/", $union, $values);
        $out[$name] = $values[1];
    }
    return $out;
}

$models = [];
foreach (glob(__DIR__ . '/../src/Model/*.php') as $file) {
    $class = new ReflectionClass('Ftmv\\Model\\' . basename($file, '.php'));
    $fields = $required = [];
    foreach ($class->getConstructor()->getParameters() as $parameter) {
        if ($parameter->getName() === 'raw') {
            continue;
        }
        $fields[] = $parameter->getName();
        if (!$parameter->isDefaultValueAvailable()) {
            $required[] = $parameter->getName();
        }
    }
    $models[$class->getShortName()] = ['fields' => $fields, 'required' => $required];
}

$generate = new ReflectionMethod(Client::class, 'generate');
$enums = literals($generate);
$orderTypes = literals((new ReflectionClass(Ftmv\Model\Order::class))->getConstructor());
$body = $options = $headers = [];
foreach ($generate->getParameters() as $parameter) {
    $name = snake($parameter->getName());
    if ($name === 'idempotency_key') {
        $headers[] = 'Idempotency-Key';
    } elseif (in_array($name, Client::OPTION_FIELDS, true)) {
        $options[] = $name;
    } else {
        $body[] = $name;
    }
}
if ($options !== []) {
    $body[] = 'options';
}
$short = static fn (string $class): string => (new ReflectionClass($class))->getShortName();

$composer = json_decode(file_get_contents(__DIR__ . '/../composer.json'), true, 512, JSON_THROW_ON_ERROR);

echo json_encode([
    'versions' => [$composer['version'], Client::VERSION],
    'operations' => Client::OPERATIONS,
    'error_codes' => array_map($short, ApiException::CODES),
    'error_statuses' => array_map($short, ApiException::STATUSES),
    'models' => $models,
    'enums' => [
        'style' => $enums['style'] ?? null,
        'quality' => $enums['quality'] ?? null,
        'format' => $enums['format'] ?? null,
        'category' => $enums['category'] ?? null,
        'status' => $orderTypes['status'] ?? null,
    ],
    'generate' => ['body' => $body, 'options' => $options, 'headers' => $headers],
    'list_orders' => array_map(
        static fn (ReflectionParameter $p): string => snake($p->getName()),
        (new ReflectionMethod(Client::class, 'listOrders'))->getParameters(),
    ),
], JSON_PRETTY_PRINT), "\n";
