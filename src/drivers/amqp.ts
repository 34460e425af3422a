// The subset of `amqplib` (promise API) rig calls; rig never imports the driver's own types,
// so the package stays an optional peer loaded on first use.
import { loadDriver } from './load-driver.ts'

/** Message properties, as amqplib reads and writes them. */
export interface AmqpProperties {
  contentType?: string
  contentEncoding?: string
  headers?: Record<string, unknown>
  deliveryMode?: number
  priority?: number
  correlationId?: string
  replyTo?: string
  expiration?: string
  messageId?: string
  timestamp?: number
  type?: string
  userId?: string
  appId?: string
}

/** A message fetched with `get` or delivered to a consumer. */
export interface AmqpMessage {
  content: Buffer
  fields: { deliveryTag: number; redelivered: boolean; exchange: string; routingKey: string }
  properties: AmqpProperties
}

/** An AMQP field table; a value may carry its type as `{ '!': 'long', value: 5 }`. */
export type AmqpTable = Record<string, unknown>

/** A channel (a confirm channel when made by `createConfirmChannel`). */
export interface AmqpChannel {
  assertQueue(name: string, options?: { durable?: boolean; autoDelete?: boolean; exclusive?: boolean; arguments?: AmqpTable }): Promise<{ queue: string; messageCount: number; consumerCount: number }>
  checkQueue(name: string): Promise<{ queue: string; messageCount: number; consumerCount: number }>
  deleteQueue(name: string): Promise<{ messageCount: number }>
  purgeQueue(name: string): Promise<{ messageCount: number }>
  assertExchange(name: string, type: string, options?: { durable?: boolean; autoDelete?: boolean; internal?: boolean; arguments?: AmqpTable }): Promise<unknown>
  deleteExchange(name: string): Promise<unknown>
  bindQueue(queue: string, source: string, pattern: string, args?: AmqpTable): Promise<unknown>
  unbindQueue(queue: string, source: string, pattern: string, args?: AmqpTable): Promise<unknown>
  bindExchange(destination: string, source: string, pattern: string, args?: AmqpTable): Promise<unknown>
  unbindExchange(destination: string, source: string, pattern: string, args?: AmqpTable): Promise<unknown>
  publish(exchange: string, routingKey: string, content: Buffer, options?: AmqpProperties & { mandatory?: boolean }): boolean
  get(queue: string, options?: { noAck?: boolean }): Promise<AmqpMessage | false>
  consume(queue: string, onMessage: (msg: AmqpMessage | null) => void, options?: { noAck?: boolean }): Promise<{ consumerTag: string }>
  prefetch(count: number): Promise<unknown>
  ack(message: AmqpMessage, allUpTo?: boolean): void
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void
  /** Confirm channels only: resolves once the broker confirmed every message published so far. */
  waitForConfirms(): Promise<void>
  close(): Promise<void>
  on(event: 'error' | 'close', listener: (err?: Error) => void): unknown
}

/** An open connection. */
export interface AmqpConnection {
  createChannel(): Promise<AmqpChannel>
  createConfirmChannel(): Promise<AmqpChannel>
  close(): Promise<void>
  on(event: 'error' | 'close', listener: (err?: Error) => void): unknown
  /** The underlying connection: `serverProperties` is what the broker announced in `connection.start`. */
  readonly connection: { serverProperties?: Record<string, unknown> }
}

interface AmqplibModule {
  connect(url: string, socketOptions?: { timeout?: number }): Promise<AmqpConnection>
}

/** Opens a connection to `url`; `purpose` names what needs the driver when it is missing. */
export async function connectAmqp(url: string, options: { timeoutMs?: number; purpose?: string } = {}): Promise<AmqpConnection> {
  const mod = await loadDriver<AmqplibModule & { default?: AmqplibModule }>('amqplib', options.purpose ?? 'the RabbitMQ guard')
  const { connect } = mod.default?.connect ? mod.default : mod
  const conn = await connect(url, { timeout: options.timeoutMs ?? 5000 })
  // An unhandled 'error' event would crash the process; failures surface on the calls instead.
  conn.on('error', () => {})
  return conn
}
