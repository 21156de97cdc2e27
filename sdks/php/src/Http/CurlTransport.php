<?php

declare(strict_types=1);

namespace Ftmv\Http;

use Ftmv\Exception\ApiConnectionException;

/** The default transport, on ext-curl. One handle is reused, so connections to the API are kept alive. */
final class CurlTransport implements Transport
{
    private ?\CurlHandle $handle = null;

    public function send(Request $request, float $timeout): Response
    {
        $this->handle ??= curl_init();
        $curl = $this->handle;
        curl_reset($curl);
        $headers = [];
        foreach ($request->headers as $name => $value) {
            $headers[] = "$name: $value";
        }
        $headers[] = 'Expect:'; // no "100-continue" round trip before large uploads
        $received = [];
        curl_setopt_array($curl, [
            CURLOPT_URL => $request->url,
            CURLOPT_CUSTOMREQUEST => $request->method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => $request->method === 'GET',
            CURLOPT_MAXREDIRS => 5,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_TIMEOUT_MS => (int) ($timeout * 1000),
            CURLOPT_HEADERFUNCTION => static function ($curl, string $line) use (&$received): int {
                if (str_starts_with($line, 'HTTP/')) {
                    $received = []; // a redirect's or a 100's headers: start over
                } elseif (str_contains($line, ':')) {
                    [$name, $value] = explode(':', $line, 2);
                    $received[strtolower(trim($name))] = trim($value);
                }
                return strlen($line);
            },
        ]);
        if ($request->body !== null) {
            curl_setopt($curl, CURLOPT_POSTFIELDS, $request->body);
        }
        $body = curl_exec($curl);
        if ($body === false) {
            throw new ApiConnectionException(sprintf(
                '%s %s: %s (curl error %d)',
                $request->method,
                $request->url,
                curl_error($curl),
                curl_errno($curl),
            ));
        }
        return new Response((int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $received, (string) $body);
    }
}
