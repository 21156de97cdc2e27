<?php

declare(strict_types=1);

namespace Ftmv\Exception;

use Ftmv\Model\Order;

/** Client::wait() saw the order end as failed (its credits are refunded); $order->error says why. */
class OrderFailedException extends FtmvException
{
    public function __construct(public readonly Order $order)
    {
        $reason = $order->error ? ": {$order->error->code}: {$order->error->message}" : '';
        parent::__construct("order {$order->id} failed$reason");
    }
}
