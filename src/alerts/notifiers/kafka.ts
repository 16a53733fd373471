/**
 * Produces one Kafka message per notified alert: key = the alert's fingerprint (so every message about one
 * alert lands in one partition, in order), value = JSON (the webhook payload's alert plus its group).
 *
 * Client: @platformatic/kafka, a maintained pure-TypeScript client (no native build, unlike
 * @confluentinc/kafka-javascript which must compile librdkafka; kafkajs is in maintenance mode). It is loaded
 * only when a kafka channel is configured.
 */
import type { Producer } from '@platformatic/kafka';
import { errorMessage } from '../../lib/errors.js';
import { guardPromise } from '../../lib/guard.js';
import { webhookAlert } from '../payload.js';
import type { NotificationBatch, Notifier } from '../types.js';
import { NotifyError } from './notify-error.js';

export interface KafkaSasl {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

export interface KafkaNotifierOptions {
  name: string;
  brokers: readonly string[];
  topic: string;
  clientId: string;
  timeoutMs: number;
  externalUrl: string;
  sasl?: KafkaSasl;
  tls?: boolean;
}

export class KafkaNotifier implements Notifier {
  readonly name: string;
  private readonly _opts: KafkaNotifierOptions;
  private _producer: Producer<string, string, string, string> | undefined;

  constructor(opts: KafkaNotifierOptions) {
    this.name = opts.name;
    this._opts = opts;
  }

  async send(batch: NotificationBatch): Promise<void> {
    const producer = await this._connect();
    const messages = batch.alerts.map((a) => ({
      topic: this._opts.topic,
      key: a.fingerprint,
      value: JSON.stringify({
        ...webhookAlert(a, this._opts.externalUrl),
        value: a.value,
        groupKey: batch.groupKey,
        groupLabels: batch.groupLabels,
        receiver: this.name,
      }),
    }));
    try {
      await producer.send({ messages });
    } catch (err) {
      // A broken connection is not reused: the next attempt connects afresh.
      this._producer = undefined;
      // Deliberately quiet: closing a connection that just broke may fail as well, and the error thrown
      // below already says what went wrong.
      await producer.close(true).catch(() => undefined);
      throw new NotifyError(`kafka produce to ${this._opts.topic} failed: ${errorMessage(err)}`, false, {
        cause: err,
      });
    }
  }

  async shutdown(): Promise<void> {
    const producer = this._producer;
    this._producer = undefined;
    if (producer !== undefined) await guardPromise(undefined, 'kafka producer close', producer.close(true));
  }

  private async _connect(): Promise<Producer<string, string, string, string>> {
    if (this._producer !== undefined) return this._producer;
    const { Producer, stringSerializers } = await import('@platformatic/kafka');
    this._producer = new Producer({
      clientId: this._opts.clientId,
      bootstrapBrokers: [...this._opts.brokers],
      serializers: stringSerializers,
      acks: -1,
      retries: 0,
      timeout: this._opts.timeoutMs,
      connectTimeout: this._opts.timeoutMs,
      requestTimeout: this._opts.timeoutMs,
      autocreateTopics: true,
      ...(this._opts.sasl === undefined ? {} : { sasl: { ...this._opts.sasl } }),
      ...(this._opts.tls === true ? { tls: {} } : {}),
    });
    return this._producer;
  }
}
