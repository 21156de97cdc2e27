<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** GET /account: credits, usage, plan, the generate budget and the webhook signing secret. */
final class Account
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly AccountInfo $account,
        public readonly RateLimit $rate_limit,
        public readonly ?WebhookInfo $webhook = null,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            AccountInfo::fromArray($data['account']),
            RateLimit::fromArray($data['rate_limit']),
            is_array($data['webhook'] ?? null) ? WebhookInfo::fromArray($data['webhook']) : null,
            $data,
        );
    }
}
