<?php

declare(strict_types=1);

namespace Ftmv;

use Ftmv\Exception\WebhookVerificationException;

/**
 * Webhook signature verification. The server POSTs the final order JSON to the order's webhook_url with
 * "X-Ftmv-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">", keyed with the account's
 * signing secret ($client->account()->webhook->signing_secret).
 */
final class Webhook
{
    public const SIGNATURE_HEADER = 'X-Ftmv-Signature';
    /** Seconds: an older signature may be a replayed delivery. */
    public const DEFAULT_TOLERANCE = 300;

    /** The header value the server would send for $payload (to test a webhook handler). */
    public static function sign(string $payload, string $secret, ?int $timestamp = null): string
    {
        $timestamp ??= time();
        return "t=$timestamp,v1=" . hash_hmac('sha256', "$timestamp.$payload", $secret);
    }

    /**
     * Check a delivery and return its parsed body. $payload must be the raw request body
     * (file_get_contents('php://input')), byte for byte. $tolerance null skips the age check.
     *
     * @return array<string, mixed>
     * @throws WebhookVerificationException
     */
    public static function verify(
        string $payload,
        ?string $signature,
        string $secret,
        ?int $tolerance = self::DEFAULT_TOLERANCE,
        ?float $now = null,
    ): array {
        if ($signature === null || $signature === '') {
            throw new WebhookVerificationException('no ' . self::SIGNATURE_HEADER . ' header');
        }
        $timestamp = null;
        $candidates = [];
        foreach (explode(',', $signature) as $part) {
            [$name, $value] = array_pad(explode('=', trim($part), 2), 2, '');
            if ($name === 't' && ctype_digit($value)) {
                $timestamp = (int) $value;
            } elseif ($name === 'v1' && $value !== '') {
                $candidates[] = $value; // several while a secret is rotated
            }
        }
        if ($timestamp === null || $candidates === []) {
            throw new WebhookVerificationException('malformed ' . self::SIGNATURE_HEADER . ' header');
        }
        if ($tolerance !== null && abs(($now ?? microtime(true)) - $timestamp) > $tolerance) {
            throw new WebhookVerificationException('the signature timestamp is outside the tolerance');
        }
        $expected = hash_hmac('sha256', "$timestamp.$payload", $secret);
        $matched = false;
        foreach ($candidates as $candidate) {
            $matched = hash_equals($expected, $candidate) || $matched; // constant time: leaks nothing of a guess
        }
        if (!$matched) {
            throw new WebhookVerificationException('the signature does not match the body');
        }
        $event = json_decode($payload, true);
        if (!is_array($event)) {
            throw new WebhookVerificationException('the body is not a JSON object');
        }
        return $event;
    }
}
