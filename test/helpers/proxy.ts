import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * One request/response exchange on a proxied HTTP/1.1 connection (no pipelining: a client sends
 * its next request only once the previous response has come back). `requested`: request bytes
 * were forwarded to the server; `responded`: the server sent response bytes (even after a cut);
 * `forwarded`: response bytes reached the client.
 */
export interface Exchange {
  readonly n: number;
  requested: boolean;
  responded: boolean;
  forwarded: boolean;
}

/**
 * What the test decides at the first chunk of a request (already forwarded to the server when
 * asked) or of a response (not yet forwarded: 'cut' withholds it from the client).
 */
export type Decision = 'forward' | 'forward-then-cut' | 'cut';

/** The exchanges as they stood at the moment of a cut. */
export interface Cut {
  /** Every exchange that had been opened, copied at the cut. */
  readonly exchanges: readonly Exchange[];
  /** Exchanges on the connections open at the cut whose request was forwarded and whose response was not: in flight when it landed. */
  readonly inFlight: number;
  /** Those in-flight exchanges, live: they keep recording whether the server sent anything after the cut. */
  readonly live: readonly Exchange[];
}

interface Conn {
  client: Socket;
  server: Socket;
  current: Exchange | undefined;
  frozen: boolean;
}

/**
 * A TCP proxy in front of one local port that records each HTTP exchange and lets the test act at
 * an exact point: when a request (or a response) starts, `decide` is called synchronously, before
 * anything else happens in this process; the test may SIGKILL the server right there and answer
 * 'cut', and the proxy stops forwarding in both directions at once (the client sees the
 * connection drop; whatever the dying server still sends is recorded, never forwarded).
 */
export class TcpProxy {
  readonly exchanges: Exchange[] = [];
  readonly cuts: Cut[] = [];
  decide: (phase: 'request' | 'response', x: Exchange) => Decision = () => 'forward';
  private readonly conns = new Set<Conn>();
  private refusing = false;

  /** `target`: the port forwarded to (may be set after start, once the server's port is known). */
  private constructor(private readonly server: Server, readonly port: number, public target: number) {}

  /** Listens on a free loopback port and forwards to 127.0.0.1:`target`. */
  static async start(target = 0): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new TcpProxy(server, address.port, target);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections whose server side is still open (a killed server's close after the fact). */
  openServerSockets(): number {
    let n = 0;
    for (const c of this.conns) if (!c.server.destroyed) n++;
    return n;
  }

  async close(): Promise<void> {
    for (const c of this.conns) {
      c.client.destroy();
      c.server.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Drops every connection and refuses new ones (closed as soon as accepted) until {@link restore}: the server looks gone. */
  outage(): void {
    this.refusing = true;
    for (const c of this.conns) {
      c.client.destroy();
      c.server.destroy();
    }
  }

  restore(): void {
    this.refusing = false;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const server = connect(this.target, '127.0.0.1');
    const c: Conn = { client, server, current: undefined, frozen: false };
    this.conns.add(c);
    client.on('error', () => undefined);
    server.on('error', () => undefined);
    client.on('close', () => {
      if (!c.frozen) server.destroy();
    });
    server.on('close', () => {
      client.destroy();
      this.conns.delete(c);
    });
    client.on('data', (chunk: Buffer) => {
      if (c.frozen) return;
      const starts = c.current === undefined || c.current.responded;
      if (starts) {
        c.current = { n: this.exchanges.length, requested: true, responded: false, forwarded: false };
        this.exchanges.push(c.current);
      }
      server.write(chunk);
      if (starts && this.decide('request', c.current!) !== 'forward') this.cut();
    });
    server.on('data', (chunk: Buffer) => {
      const x = c.current;
      if (x === undefined) return;
      const first = !x.responded;
      x.responded = true;
      if (c.frozen) return;
      const decision = first ? this.decide('response', x) : 'forward';
      if (decision !== 'cut') {
        client.write(chunk);
        x.forwarded = true;
      }
      if (decision !== 'forward') this.cut();
    });
  }

  /** Stops all forwarding now; client sockets drop, server sockets are kept to see what still comes. */
  private cut(): void {
    const live: Exchange[] = [];
    for (const c of this.conns) {
      if (c.frozen) continue;
      c.frozen = true;
      c.client.destroy();
      if (c.current !== undefined && c.current.requested && !c.current.forwarded) live.push(c.current);
    }
    this.cuts.push({ exchanges: this.exchanges.map((x) => ({ ...x })), inFlight: live.length, live });
  }
}
