<?php

declare(strict_types=1);

namespace Ftmv;

use Ftmv\Exception\ApiConnectionException;
use Ftmv\Exception\ApiException;
use Ftmv\Exception\OrderFailedException;
use Ftmv\Exception\RateLimitException;
use Ftmv\Exception\WaitTimeoutException;
use Ftmv\Http\CurlTransport;
use Ftmv\Http\Request;
use Ftmv\Http\Response;
use Ftmv\Http\Transport;
use Ftmv\Model\Accepted;
use Ftmv\Model\Account;
use Ftmv\Model\Order;
use Ftmv\Model\OrderList;
use Ftmv\Model\RateLimit;

/**
 * The ftmv API client.
 *
 *     $client = new Ftmv\Client();   // FTMV_API_KEY, FTMV_BASE_URL
 *     $order = $client->wait($client->generate(personImage: 'me.jpg', clothingImage: 'shirt.jpg'));
 *     $client->download($order->results->result_url, 'result.jpg');
 */
final class Client
{
    public const VERSION = '1.0.0';
    public const DEFAULT_BASE_URL = 'https://ftmvai.com';
    private const API_PATH = '/api/v1';

    /**
     * operationId in the OpenAPI document => [method, path under /api/v1]. Every request is built from
     * this table, and the contract test compares it with the document.
     */
    public const OPERATIONS = [
        'generate' => ['POST', '/generate'],
        'order' => ['GET', '/orders/{order_id}'],
        'orders' => ['GET', '/orders'],
        'account' => ['GET', '/account'],
    ];

    /** generate() takes the body's "options" object flattened into named arguments: these ones. */
    public const OPTION_FIELDS = ['quality', 'format', 'category'];

    private const RETRY_STATUSES = [500, 502, 503, 504];

    public readonly string $baseUrl;
    /** X-RateLimit-* of the latest API response. */
    public ?RateLimit $rateLimit = null;
    private readonly string $apiKey;
    private readonly Transport $transport;

    /**
     * @param float $timeout seconds per attempt
     * @param int $maxRetries automatic retries of GETs and of POST /generate (under one Idempotency-Key)
     * @param float $maxRetryWait the longest Retry-After (seconds) honoured by sleeping; a longer one is thrown
     */
    public function __construct(
        ?string $apiKey = null,
        ?string $baseUrl = null,
        public readonly float $timeout = 60.0,
        public readonly int $maxRetries = 3,
        public readonly float $maxRetryWait = 30.0,
        ?Transport $transport = null,
    ) {
        $apiKey ??= (getenv('FTMV_API_KEY') ?: null);
        if ($apiKey === null || $apiKey === '') {
            throw new \InvalidArgumentException('no API key: pass $apiKey or set FTMV_API_KEY');
        }
        $this->apiKey = $apiKey;
        $root = rtrim($baseUrl ?? (getenv('FTMV_BASE_URL') ?: self::DEFAULT_BASE_URL), '/');
        // Accept both the site ("https://ftmvai.com") and the API root ("https://ftmvai.com/api/v1").
        $this->baseUrl = str_ends_with($root, self::API_PATH) ? $root : $root . self::API_PATH;
        $this->transport = $transport ?? new CurlTransport();
    }

    /**
     * Create an order (POST /generate). Images: a file path, Image::bytes(), Image::base64(), a stream
     * or SplFileInfo. Retried automatically under one Idempotency-Key (generated unless given), so a retry
     * after a lost response returns the same order and charges once.
     *
     * @param 'virtual_tryon'|'product_catalog' $style
     * @param 'standard'|'high'|null $quality
     * @param 'jpg'|'png'|'webp'|null $format
     * @param 'auto'|'tops'|'bottoms'|'one-pieces'|null $category
     */
    public function generate(
        string $style = 'virtual_tryon',
        mixed $personImage = null,
        mixed $clothingImage = null,
        mixed $productImage = null,
        ?int $quantity = null,
        ?string $quality = null,
        ?string $format = null,
        ?string $category = null,
        ?string $webhookUrl = null,
        ?string $idempotencyKey = null,
    ): Accepted {
        $body = ['style' => $style];
        $images = ['person_image' => $personImage, 'clothing_image' => $clothingImage, 'product_image' => $productImage];
        foreach ($images as $name => $value) {
            if ($value !== null) {
                $body[$name] = Image::encode($value, $name);
            }
        }
        if ($quantity !== null) {
            $body['quantity'] = $quantity;
        }
        $chosen = ['quality' => $quality, 'format' => $format, 'category' => $category];
        $options = [];
        foreach (self::OPTION_FIELDS as $name) {
            if ($chosen[$name] !== null) {
                $options[$name] = $chosen[$name];
            }
        }
        if ($options !== []) {
            $body['options'] = $options;
        }
        if ($webhookUrl !== null && $webhookUrl !== '') {
            $body['webhook_url'] = $webhookUrl;
        }
        // Encoded once: every retry sends the same bytes, which the server's idempotency check hashes.
        $json = json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $headers = ['Content-Type' => 'application/json', 'Idempotency-Key' => $idempotencyKey ?? self::uuid4()];
        return Accepted::fromArray($this->call('generate', body: $json, headers: $headers));
    }

    /** GET /orders/{id}. */
    public function getOrder(int|Accepted|Order $order): Order
    {
        return Order::fromArray($this->call('order', path: ['order_id' => self::orderId($order)])['order']);
    }

    /** GET /orders: one page, newest first. */
    public function listOrders(int $page = 1, int $pageSize = 20): OrderList
    {
        return OrderList::fromArray($this->call('orders', query: ['page' => $page, 'page_size' => $pageSize]));
    }

    /** @return \Generator<int, Order> every order, newest first, page by page */
    public function iterOrders(int $pageSize = 100): \Generator
    {
        for ($page = 1;; $page++) {
            $listing = $this->listOrders($page, $pageSize);
            foreach ($listing->orders as $order) {
                yield $order;
            }
            if ($listing->pagination->next === null) {
                return;
            }
        }
    }

    /** GET /account. */
    public function account(): Account
    {
        return Account::fromArray($this->call('account'));
    }

    /**
     * Poll until the order is completed and return it. Backs off from $minInterval to $maxInterval, and
     * while the server's estimated_completion is further away waits for it instead (capped).
     *
     * @param (callable(Order): mixed)|null $onProgress called with every state polled
     * @throws OrderFailedException when the order fails
     * @throws WaitTimeoutException after $timeout seconds
     */
    public function wait(
        int|Accepted|Order $order,
        float $timeout = 600.0,
        ?callable $onProgress = null,
        float $minInterval = 1.0,
        float $maxInterval = 5.0,
    ): Order {
        $deadline = microtime(true) + $timeout;
        for ($step = 0;; $step++) {
            $current = $this->getOrder($order);
            if ($onProgress !== null) {
                $onProgress($current);
            }
            if ($current->status === 'completed') {
                return $current;
            }
            if ($current->status === 'failed') {
                throw new OrderFailedException($current);
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                throw new WaitTimeoutException($current, $timeout);
            }
            $delay = min($maxInterval, $minInterval * 1.5 ** $step);
            if ($current->estimated_completion !== null) {
                $ahead = (new \DateTimeImmutable($current->estimated_completion))->format('U.u') - microtime(true);
                if ($ahead > $delay) {
                    $delay = min($ahead, $maxInterval);
                }
            }
            usleep((int) (min($left, $delay) * 1e6));
        }
    }

    /**
     * A result's bytes, or, given a path, the file written there (parent folders created) and its path.
     * Result URLs are fetchable as they are: the API key is not sent with them.
     */
    public function download(string $url, ?string $path = null): string
    {
        $data = $this->send(new Request('GET', $url), retry: true, api: false)->body;
        if ($path === null) {
            return $data;
        }
        $folder = dirname($path);
        if (!is_dir($folder) && !mkdir($folder, 0777, true) && !is_dir($folder)) {
            throw new \RuntimeException("cannot create $folder");
        }
        if (file_put_contents($path, $data) === false) {
            throw new \RuntimeException("cannot write $path");
        }
        return $path;
    }

    /** @return list<string> every generated image of a completed order, written into $folder */
    public function downloadResults(Order $order, string $folder): array
    {
        if ($order->results === null) {
            throw new \LogicException("order {$order->id} is {$order->status}: it has no results yet");
        }
        $paths = [];
        foreach ($order->results->outputs() as $url) {
            $name = basename((string) parse_url($url, PHP_URL_PATH)) ?: 'result';
            $paths[] = $this->download($url, rtrim($folder, '/') . '/' . $name);
        }
        return $paths;
    }

    /**
     * @param array<string, int|string> $path
     * @param array<string, int|string> $query
     * @param array<string, string> $headers
     * @return array<string, mixed>
     */
    private function call(
        string $operation,
        array $path = [],
        array $query = [],
        ?string $body = null,
        array $headers = [],
    ): array
    {
        [$method, $template] = self::OPERATIONS[$operation];
        $url = $this->baseUrl . preg_replace_callback(
            '/\{(\w+)\}/',
            static fn (array $m): string => rawurlencode((string) $path[$m[1]]),
            $template,
        );
        if ($query !== []) {
            $url .= '?' . http_build_query($query);
        }
        $headers = [
            'Authorization' => "Bearer {$this->apiKey}",
            'Accept' => 'application/json',
            'User-Agent' => 'ftmv-php/' . self::VERSION,
        ] + $headers;
        $response = $this->send(new Request($method, $url, $headers, $body), retry: true, api: true);
        return json_decode($response->body, true, 512, JSON_THROW_ON_ERROR);
    }

    private function send(Request $request, bool $retry, bool $api): Response
    {
        for ($attempt = 0;; $attempt++) {
            try {
                $response = $this->transport->send($request, $this->timeout);
            } catch (ApiConnectionException $exception) {
                // Only GETs and POST /generate (which always carries an Idempotency-Key) come through
                // here, so a request that may have reached the server is still safe to repeat.
                if ($retry && $attempt < $this->maxRetries) {
                    usleep((int) ($this->backoff($attempt) * 1e6));
                    continue;
                }
                throw $exception;
            }
            if ($api) {
                $this->rateLimit = RateLimit::fromHeaders($response->headers) ?? $this->rateLimit;
            }
            if ($response->isSuccess()) {
                return $response;
            }
            $error = ApiException::fromResponse($response);
            $delay = $retry ? $this->retryDelay($error, $attempt) : null;
            if ($delay === null) {
                throw $error;
            }
            usleep((int) ($delay * 1e6));
        }
    }

    private function retryDelay(ApiException $error, int $attempt): ?float
    {
        if ($attempt >= $this->maxRetries) {
            return null;
        }
        if ($error instanceof RateLimitException) {
            // An hourly budget that resets in 40 minutes is the caller's decision, not a silent sleep.
            $wait = $error->getRetryAfter();
            return $wait !== null && $wait <= $this->maxRetryWait ? $wait : null;
        }
        if (in_array($error->getStatus(), self::RETRY_STATUSES, true)) {
            return min($this->maxRetryWait, $error->getRetryAfter() ?? $this->backoff($attempt));
        }
        return null;
    }

    /** Exponential with jitter (seconds), so clients that failed together do not retry together. */
    private function backoff(int $attempt): float
    {
        return min(8.0, 0.5 * 2 ** $attempt) * (0.5 + mt_rand() / mt_getrandmax() / 2);
    }

    private static function orderId(int|Accepted|Order $order): int
    {
        return match (true) {
            $order instanceof Accepted => $order->order_id,
            $order instanceof Order => $order->id,
            default => $order,
        };
    }

    private static function uuid4(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr(ord($bytes[6]) & 0x0f | 0x40);
        $bytes[8] = chr(ord($bytes[8]) & 0x3f | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }
}
