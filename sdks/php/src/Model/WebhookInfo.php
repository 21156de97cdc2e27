<?php

declare(strict_types=1);

namespace Ftmv\Model;

final class WebhookInfo
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly string $signing_secret, // verifies the X-Ftmv-Signature of this account's webhooks
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self((string) $data['signing_secret'], $data);
    }
}
