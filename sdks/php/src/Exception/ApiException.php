<?php

declare(strict_types=1);

namespace Ftmv\Exception;

use Ftmv\Http\Response;
use Ftmv\Model\RateLimit;

/**
 * The API answered with an error body. getErrorCode(), getMessage() and getDetails() are the server's own;
 * getResponse() is the whole HTTP response. (PHP's own getCode() is an int, so the API's code has its own getter.)
 */
class ApiException extends FtmvException
{
    /** The API's error codes (the contract test compares this table with the server). */
    public const CODES = [
        'INVALID_REQUEST' => ValidationException::class,
        'INVALID_IMAGE' => InvalidImageException::class,
        'UNAUTHORIZED' => AuthenticationException::class,
        'FORBIDDEN' => PermissionDeniedException::class,
        'INSUFFICIENT_CREDITS' => InsufficientCreditsException::class,
        'NOT_FOUND' => NotFoundException::class,
        'PAYLOAD_TOO_LARGE' => PayloadTooLargeException::class,
        'RATE_LIMIT_EXCEEDED' => RateLimitException::class,
        'CONCURRENCY_LIMIT_EXCEEDED' => ConcurrencyLimitException::class,
        'INTERNAL_ERROR' => ServerException::class,
        'SERVICE_UNAVAILABLE' => ServiceUnavailableException::class,
    ];

    /** For a code this version does not know: the class of its HTTP status. */
    public const STATUSES = [
        400 => ValidationException::class,
        401 => AuthenticationException::class,
        402 => InsufficientCreditsException::class,
        403 => PermissionDeniedException::class,
        404 => NotFoundException::class,
        413 => PayloadTooLargeException::class,
        422 => ValidationException::class, // an Idempotency-Key reused with a different request
        429 => RateLimitException::class,
        500 => ServerException::class,
        503 => ServiceUnavailableException::class,
    ];

    /** @param array<string, mixed> $details */
    final public function __construct(
        string $message,
        private readonly string $errorCode,
        private readonly int $status,
        private readonly array $details = [],
        private readonly ?Response $response = null,
    ) {
        parent::__construct($errorCode !== '' ? "$errorCode: $message" : $message, $status);
    }

    /** The typed exception for an error response (also a non-JSON one, e.g. from a proxy). */
    public static function fromResponse(Response $response): self
    {
        $body = json_decode($response->body, true);
        $error = is_array($body) && isset($body['error']) && is_array($body['error']) ? $body['error'] : null;
        if ($error !== null && is_string($error['code'] ?? null)) {
            $code = $error['code'];
            $message = (string) ($error['message'] ?? '');
            $details = is_array($error['details'] ?? null) ? $error['details'] : [];
        } else {
            $code = '';
            $message = sprintf('HTTP %d: %s', $response->status, substr($response->body, 0, 200));
            $details = [];
        }
        $class = self::CODES[$code] ?? self::STATUSES[$response->status]
            ?? ($response->status >= 500 ? ServerException::class : self::class);
        return new $class($message, $code, $response->status, $details, $response);
    }

    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    public function getStatus(): int
    {
        return $this->status;
    }

    /** @return array<string, mixed> */
    public function getDetails(): array
    {
        return $this->details;
    }

    public function getResponse(): ?Response
    {
        return $this->response;
    }

    /** X-RateLimit-* of the response, when it had them. */
    public function getRateLimit(): ?RateLimit
    {
        return $this->response ? RateLimit::fromHeaders($this->response->headers) : null;
    }

    /** Seconds the server asked to wait (Retry-After), when it sent one. */
    public function getRetryAfter(): ?float
    {
        $value = $this->response?->header('Retry-After');
        if ($value === null) {
            return null;
        }
        if (is_numeric($value)) {
            return max(0.0, (float) $value);
        }
        $time = strtotime($value); // an HTTP date: this API sends seconds, a proxy might not
        return $time === false ? null : max(0.0, (float) ($time - time()));
    }
}
