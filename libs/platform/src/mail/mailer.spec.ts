import { createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';
import { LedgerlineConfig } from '../config/ledgerline-config';
import { Mailer } from './mailer';

describe('Mailer deadline', () => {
  let server: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A stalled SMTP server: accepts the connection and never says a word.
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up at the deadline instead of waiting for the SMTP timeouts', async () => {
    const port = (server.address() as AddressInfo).port;
    const config = Object.assign(new LedgerlineConfig(), {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      MAIL_FROM: 'll@example.org',
    });
    const mailer = new Mailer(config);
    const started = Date.now();
    await expect(
      mailer.send({ to: 'a@example.org', subject: 's', text: 't' }, 300),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
    mailer.onModuleDestroy();
  });
});
