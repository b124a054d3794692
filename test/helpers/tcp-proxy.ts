import net from 'node:net';

/**
 * A TCP proxy in front of a real PostgreSQL or Redis that a test controls, to play a dependency
 * outage without stopping the machine's shared servers:
 *  - `stop()`: every open connection is cut and the port refuses new ones (the server is down);
 *  - `start()`: the port accepts again (the server is back);
 *  - `cutConnections()`: open connections are cut but new ones are accepted (a fast restart);
 *  - `freeze()`: connections stay open and new ones are accepted, but nothing is forwarded either way
 *    (a server that hangs, or a network that drops packets); `start()` ends it, cutting what froze.
 */
export interface TcpProxy {
  readonly port: number;
  /** `host:port` of the proxy, for a connection URL. */
  readonly address: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  freeze(): void;
  cutConnections(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  let frozen = false;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        track(client);
        // Frozen: the connection is accepted and then never answered.
        if (frozen) return;
        const upstream = net.connect(target.port, target.host);
        track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });

  const cutConnections = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    // Stop accepting first, then cut what is open: nothing gets through in between.
    const closed = new Promise<void>((resolve) =>
      s.close(() => {
        resolve();
      }),
    );
    cutConnections();
    await closed;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    stop,
    start: async () => {
      if (frozen) {
        frozen = false;
        cutConnections();
      }
      if (!server) await listen();
    },
    freeze: () => {
      frozen = true;
      // Data in flight either way is dropped from now on.
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    cutConnections,
    close: stop,
  };
}
