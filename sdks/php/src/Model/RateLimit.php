<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** The hourly generate budget: GET /account's rate_limit, or any response's X-RateLimit-* headers. */
final class RateLimit
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly int $limit,
        public readonly int $remaining,
        public readonly int $reset, // Unix time the window ends
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self((int) $data['limit'], (int) $data['remaining'], (int) $data['reset'], $data);
    }

    /** @param array<string, string> $headers lower-case names */
    public static function fromHeaders(array $headers): ?self
    {
        $values = [];
        foreach (['limit', 'remaining', 'reset'] as $name) {
            $value = $headers["x-ratelimit-$name"] ?? null;
            if ($value === null || !ctype_digit($value)) {
                return null; // e.g. a 401: the server does not know whose budget to report
            }
            $values[$name] = (int) $value;
        }
        return self::fromArray($values);
    }
}
