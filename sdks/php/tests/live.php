<?php

// The SDK's live test program: run by tests/sdks/test_php_sdk.py against a live ftmv server (and, for
// "flow", a real worker), one scenario per run: php tests/live.php <scenario>.
// Env: FTMV_BASE_URL, FTMV_API_KEY (and FTMV_BROKE_API_KEY for "errors"), FTMV_TEST_INPUTS (a folder with
// person.jpg, clothing.jpg, product.png), FTMV_TEST_OUT (a folder for downloads). Prints a JSON summary.

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

use Ftmv\Client;
use Ftmv\Exception\ApiConnectionException;
use Ftmv\Exception\AuthenticationException;
use Ftmv\Exception\ConcurrencyLimitException;
use Ftmv\Exception\InsufficientCreditsException;
use Ftmv\Exception\InvalidImageException;
use Ftmv\Exception\NotFoundException;
use Ftmv\Exception\PayloadTooLargeException;
use Ftmv\Exception\RateLimitException;
use Ftmv\Exception\ServerException;
use Ftmv\Exception\ValidationException;
use Ftmv\Exception\WebhookVerificationException;
use Ftmv\Http\CurlTransport;
use Ftmv\Http\Request;
use Ftmv\Http\Response;
use Ftmv\Http\Transport;
use Ftmv\Image;
use Ftmv\Webhook;

set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if (!(error_reporting() & $severity)) {
        return false; // silenced with @ (the receiver's port probe)
    }
    throw new ErrorException($message, 0, $severity, $file, $line); // any other warning is a failure here
});

function check(bool $condition, string $what): void
{
    if (!$condition) {
        throw new RuntimeException("check failed: $what");
    }
}

/** @template T of Throwable @param class-string<T> $class @return T */
function throws(string $class, callable $action): Throwable
{
    try {
        $action();
    } catch (Throwable $error) {
        check($error instanceof $class, "expected $class, got " . get_class($error) . ': ' . $error->getMessage());
        return $error;
    }
    throw new RuntimeException("expected $class, nothing thrown");
}

function input(string $name): string
{
    return getenv('FTMV_TEST_INPUTS') . "/$name";
}

function is_jpeg(string $data): bool
{
    return str_starts_with($data, "\xFF\xD8\xFF");
}

function is_png(string $data): bool
{
    return str_starts_with($data, "\x89PNG");
}

/** A `php -S` webhook endpoint on 127.0.0.1 recording deliveries into a folder. */
function start_receiver(): array
{
    $probe = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
    fclose($probe);
    $dir = sys_get_temp_dir() . '/ftmv-hooks-' . bin2hex(random_bytes(4));
    mkdir($dir);
    $process = proc_open(
        [PHP_BINARY, '-S', "127.0.0.1:$port", __DIR__ . '/receiver.php'],
        [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
        $pipes,
        null,
        ['FTMV_HOOKS_DIR' => $dir],
    );
    for ($i = 0; $i < 100 && !@fsockopen('127.0.0.1', $port); $i++) {
        usleep(50_000);
    }
    return ["http://127.0.0.1:$port", $dir, $process];
}

function next_delivery(string $dir, float $timeout): array
{
    $deadline = microtime(true) + $timeout;
    while (($files = glob("$dir/*.json")) === []) {
        check(microtime(true) < $deadline, 'a webhook delivery arrived');
        usleep(200_000);
    }
    $record = json_decode(file_get_contents($files[0]), true);
    $record['body'] = base64_decode($record['body']);
    return $record;
}

/** Forwards to curl, but loses the response of the first POST, as a network failure after the server accepted it would. */
final class LosingTransport implements Transport
{
    /** @var list<string> */
    public array $keys = [];
    private CurlTransport $real;

    public function __construct()
    {
        $this->real = new CurlTransport();
    }

    public function send(Request $request, float $timeout): Response
    {
        $response = $this->real->send($request, $timeout);
        if ($request->method === 'POST') {
            $this->keys[] = $request->headers['Idempotency-Key'];
            if (count($this->keys) === 1) {
                throw new ApiConnectionException('connection reset after the server answered');
            }
        }
        return $response;
    }
}

final class CountingTransport implements Transport
{
    /** @var list<string> */
    public array $paths = [];
    private CurlTransport $real;

    public function __construct()
    {
        $this->real = new CurlTransport();
    }

    public function send(Request $request, float $timeout): Response
    {
        $this->paths[] = (string) parse_url($request->url, PHP_URL_PATH);
        return $this->real->send($request, $timeout);
    }
}

$scenarios = [
    'flow' => static function (): array {
        $client = new Client(); // FTMV_API_KEY and FTMV_BASE_URL from the environment
        $out = getenv('FTMV_TEST_OUT');
        [$hooks, $hooksDir, $receiver] = start_receiver();
        try {
            $accepted = $client->generate(
                personImage: input('person.jpg'), // file paths
                clothingImage: new SplFileInfo(input('clothing.jpg')),
                webhookUrl: "$hooks/hooks/tryon",
            );
            check($accepted->status === 'pending' && $accepted->credits_used === 1, 'accepted');
            $seen = [];
            $order = $client->wait($accepted, timeout: 240, onProgress: function ($o) use (&$seen) {
                $seen[] = $o->status;
            });
            check($order->status === 'completed' && count($seen) >= 2 && end($seen) === 'completed', 'progress seen');
            $result = $client->download($order->results->result_url, "$out/tryon/result.jpg");
            check(is_jpeg(file_get_contents($result)), 'result is a JPEG');
            check(is_jpeg($client->download($order->results->person_url)), 'person is a JPEG');

            $stream = fopen(input('product.png'), 'rb'); // a stream
            $catalog = $client->generate(
                style: 'product_catalog',
                productImage: $stream,
                quantity: 6,
                quality: 'standard',
                format: 'png',
            );
            fclose($stream);
            check($catalog->credits_used === 24, 'catalog costs 24');
            $done = $client->wait($catalog->order_id, timeout: 300);
            check(count($done->results->catalog_images) === 6 && $done->results->product_description, 'six images');
            $files = $client->downloadResults($done, "$out/catalog");
            check(count(array_unique($files)) === 6, 'six files');
            foreach ($files as $file) {
                check(is_png(file_get_contents($file)), "$file is a PNG");
            }

            $info = $client->account();
            check($info->account->credits_remaining === 5 && $info->account->api_calls_total === 2, 'credits');
            check($client->rateLimit->limit === 100 && $client->rateLimit->remaining === 98, 'rate limit headers');
            $page = $client->listOrders(pageSize: 1);
            check($page->pagination->total === 2 && $page->orders[0]->id === $done->id, 'list');
            $all = array_map(static fn ($o) => $o->id, iterator_to_array($client->iterOrders(pageSize: 1), false));
            check($all === [$done->id, $order->id], 'iterate');

            // The server's real delivery for the try-on order.
            $delivery = next_delivery($hooksDir, 60);
            check($delivery['path'] === '/hooks/tryon', 'delivery path');
            $secret = $info->webhook->signing_secret;
            $event = Webhook::verify($delivery['body'], $delivery['signature'], $secret);
            check($event['event'] === 'order.completed' && $event['order']['id'] === $order->id, 'event');
            $tampered = str_replace('completed', 'failed', $delivery['body']);
            throws(WebhookVerificationException::class, fn () => Webhook::verify($tampered, $delivery['signature'], $secret));
            throws(WebhookVerificationException::class, fn () => Webhook::verify($delivery['body'], $delivery['signature'], 'whsec_wrong'));
            throws(
                WebhookVerificationException::class,
                fn () => Webhook::verify($delivery['body'], $delivery['signature'], $secret, now: time() + 3600.0),
            );
            return ['tryon' => $order->id, 'catalog' => $done->id, 'files' => [$result, ...$files]];
        } finally {
            proc_terminate($receiver);
            proc_close($receiver);
        }
    },

    'errors' => static function (): array {
        $person = Image::bytes(file_get_contents(input('person.jpg'))); // raw bytes
        $clothing = input('clothing.jpg');
        $product = Image::base64(base64_encode(file_get_contents(input('product.png')))); // already base64
        $client = new Client(maxRetries: 0);
        $seen = [];

        $error = throws(AuthenticationException::class, fn () => (new Client('ftmv_' . str_repeat('x', 59)))->account());
        check($error->getStatus() === 401 && $error->getResponse()->status === 401, '401');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        $error = throws(NotFoundException::class, fn () => $client->getOrder(987654321));
        check(str_contains($error->getMessage(), '987654321'), 'not found names the id');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        $error = throws(ValidationException::class, fn () => $client->generate(style: 'product_catalog', productImage: $product, quantity: 7));
        check(isset($error->getFields()['quantity']) && !$error instanceof InvalidImageException, 'fields');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        $error = throws(InvalidImageException::class, fn () => $client->generate(personImage: Image::bytes('not an image'), clothingImage: $clothing));
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        $huge = Image::bytes(str_repeat("\x07", 16 * 1024 * 1024)); // one image over the server's 15 MB limit
        $error = throws(PayloadTooLargeException::class, fn () => $client->generate(personImage: $huge, clothingImage: $clothing));
        check($error->getStatus() === 413, '413');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        $broke = new Client(getenv('FTMV_BROKE_API_KEY'));
        $error = throws(InsufficientCreditsException::class, fn () => $broke->generate(personImage: $person, clothingImage: $clothing));
        check($error->getCreditsRequired() === 1 && $error->getCreditsAvailable() === 0, 'credits details');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();

        // Free plan: one order in flight; no worker runs, so the first stays pending.
        $first = $client->generate(personImage: $person, clothingImage: $clothing);
        $error = throws(ConcurrencyLimitException::class, fn () => $client->generate(personImage: $person, clothingImage: $clothing));
        check($error->getRetryAfter() === 5.0 && $error instanceof RateLimitException, 'Retry-After 5');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();
        $started = microtime(true);
        throws(ConcurrencyLimitException::class, fn () => (new Client(maxRetries: 1))->generate(personImage: $person, clothingImage: $clothing));
        check(microtime(true) - $started >= 4.5, 'the one retry waited for Retry-After');
        check($client->getOrder($first)->status === 'pending', 'first still pending');

        // Only the order created counts against the free plan's 10 per hour (refused requests do not).
        check($client->rateLimit->remaining === 9, 'remaining 9, saw ' . $client->rateLimit->remaining);
        // An account with 9 orders this hour: the 10th is accepted, the next is refused by the limit itself.
        $spent = new Client(getenv('FTMV_NEARLY_SPENT_API_KEY'), maxRetries: 0);
        $spent->generate(personImage: $person, clothingImage: $clothing);
        check($spent->rateLimit->remaining === 0, 'remaining 0 after the 10th order');
        $error = throws(RateLimitException::class, fn () => $spent->generate(personImage: $person, clothingImage: $clothing));
        check(!$error instanceof ConcurrencyLimitException, 'not the concurrency limit');
        check($error->getRetryAfter() > 0 && $error->getRetryAfter() <= 3600, 'retry after within the hour');
        check($error->getRateLimit()->limit === 10 && $error->getRateLimit()->remaining === 0, 'headers on the 429');
        check($error->getDetails()['window'] === 'hourly', 'hourly window');
        $seen[$error->getErrorCode()] = (new ReflectionClass($error))->getShortName();
        return ['codes' => $seen];
    },

    'idempotency' => static function (): array {
        $transport = new LosingTransport();
        $client = new Client(transport: $transport);
        $images = ['personImage' => input('person.jpg'), 'clothingImage' => input('clothing.jpg')];
        $accepted = $client->generate(...$images);
        check(count($transport->keys) === 2 && $transport->keys[0] === $transport->keys[1], 'one key, two attempts');
        $page = $client->listOrders();
        check($page->pagination->total === 1 && $page->orders[0]->id === $accepted->order_id, 'one order');
        check($client->account()->account->credits_remaining === 9, 'charged once');
        $again = $client->generate(...$images, idempotencyKey: $transport->keys[0]);
        check($again->order_id === $accepted->order_id, 'same key, same order');
        $other = $client->generate(...$images);
        check($other->order_id !== $accepted->order_id, 'new key, new order');
        check($client->account()->account->credits_remaining === 8, 'charged for the new order');
        return ['order' => $accepted->order_id];
    },

    'server-error' => static function (): array {
        $transport = new CountingTransport();
        $client = new Client(maxRetries: 2, transport: $transport);
        $error = throws(ServerException::class, fn () => $client->account());
        check(in_array($error->getStatus(), [500, 503], true), 'a 5xx');
        check($transport->paths === array_fill(0, 3, '/api/v1/account'), 'a safe request: retried twice');
        return ['code' => $error->getErrorCode()];
    },
];

$name = $argv[1] ?? '';
if (!isset($scenarios[$name])) {
    fwrite(STDERR, "unknown scenario $name\n");
    exit(2);
}
echo json_encode($scenarios[$name]()), "\n";
