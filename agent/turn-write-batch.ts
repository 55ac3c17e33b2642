import type { Writable } from 'node:stream';

/**
 * Gathers every write made to a stream during the current event-loop turn and hands them to it
 * as one Buffer at the end of the turn (setImmediate), in order.
 *
 * Why not `cork()`: mqtt-packet writes every field of a packet (fixed header, length, topic
 * length, topic, packet id, properties, payload) as a chunk of its own, so a corked sweep of a
 * few hundred PUBLISHes reaches the socket as one writev of thousands of chunks, strings among
 * them, each handled on its own by Node's stream and libuv code. Copied into one buffer they
 * cost one chunk and one syscall.
 *
 * Only `write` and `end` of this one stream instance are replaced, and only until the turn ends:
 * `end` first releases what is held, so nothing written before it is lost; on a stream destroyed
 * meanwhile the held bytes are dropped, as a corked stream would drop them (mqtt.js resends
 * unacknowledged QoS 1 messages from its session store after the reconnect).
 */
export interface TurnWriteBatch {
  readonly stream: Writable;
  /** Writes held so far this turn and the bytes they make. */
  readonly held: number;
  readonly bytes: number;
}

type WriteCb = (err?: Error | null) => void;

interface Held extends TurnWriteBatch {
  held: number;
  bytes: number;
  chunks: (Buffer | string)[];
  callbacks: WriteCb[];
  released: boolean;
  /** write/end the instance had of its own before (usually none), put back on release. */
  own: { write: PropertyDescriptor | undefined; end: PropertyDescriptor | undefined };
}

/** Hold `stream`'s writes until the end of this event-loop turn. Returns the batch, or undefined if it cannot be held (destroyed, ended). */
export function holdWritesForThisTurn(stream: Writable, onRelease?: (batch: TurnWriteBatch) => void): TurnWriteBatch | undefined {
  if (stream.destroyed || stream.writableEnded) return undefined;
  const batch: Held = { stream, held: 0, bytes: 0, chunks: [], callbacks: [], released: false, own: { write: Object.getOwnPropertyDescriptor(stream, 'write'), end: Object.getOwnPropertyDescriptor(stream, 'end') } };
  const w = stream as Writable & { write: Writable['write']; end: Writable['end'] };
  w.write = ((chunk: unknown, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): boolean => {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const enc = typeof encoding === 'string' ? encoding : 'utf8';
    let piece: Buffer | string;
    if (typeof chunk === 'string') piece = enc === 'utf8' || enc === 'utf-8' ? chunk : Buffer.from(chunk, enc);
    else if (Buffer.isBuffer(chunk)) piece = chunk;
    else if (chunk instanceof Uint8Array) piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else {
      // Not bytes (an object-mode misuse): let the stream itself refuse it, in order.
      release(batch);
      return w.write(chunk, enc, callback);
    }
    batch.chunks.push(piece);
    batch.held++;
    batch.bytes += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
    if (callback) batch.callbacks.push(callback);
    // As the stream would answer: false only while it is already over its high-water mark, so a
    // caller that waits for 'drain' gets one.
    return !stream.writableNeedDrain;
  }) as Writable['write'];
  w.end = ((...args: unknown[]) => {
    release(batch);
    return (w.end as (...a: unknown[]) => Writable)(...args);
  }) as Writable['end'];
  setImmediate(() => {
    release(batch);
    onRelease?.(batch);
  });
  return batch;
}

function release(batch: Held): void {
  if (batch.released) return;
  batch.released = true;
  // The stream's write/end are what they were before the turn.
  const stream = batch.stream;
  for (const key of ['write', 'end'] as const) {
    const before = batch.own[key];
    if (before) Object.defineProperty(stream, key, before);
    else Reflect.deleteProperty(stream, key);
  }
  const { chunks, callbacks, bytes } = batch;
  batch.chunks = [];
  batch.callbacks = [];
  if (chunks.length === 0) return;
  if (stream.destroyed || stream.writableEnded) {
    const err = Object.assign(new Error('stream closed before the held writes were released'), { code: 'ERR_STREAM_DESTROYED' });
    for (const cb of callbacks) cb(err);
    return;
  }
  if (chunks.length === 1) {
    batch.stream.write(chunks[0], callbacks.length === 0 ? undefined : (err?: Error | null) => callbacks.forEach((cb) => cb(err)));
    return;
  }
  // The reusable buffer when it is free (the socket let go of its last write) and large enough;
  // otherwise one of the turn's own size. A sweep's turns would otherwise each leave a buffer of
  // tens to hundreds of KB to the allocator, whose free lists then keep the RSS up.
  const own = spare.free && bytes <= spare.buf.length;
  const out = own ? spare.buf : Buffer.allocUnsafe(bytes);
  if (own) spare.free = false;
  let at = 0;
  for (const c of chunks) at += typeof c === 'string' ? out.write(c, at, 'utf8') : c.copy(out, at);
  batch.stream.write(own ? out.subarray(0, bytes) : out, (err?: Error | null) => {
    // The socket has written (or dropped) these bytes: the buffer may be filled again.
    if (own) spare.free = true;
    for (const cb of callbacks) cb(err);
  });
}

/** One buffer reused for the turns' writes while the previous one is done (loopback and LAN writes usually complete at once). */
const spare = { buf: Buffer.allocUnsafeSlow(256 * 1024), free: true };
