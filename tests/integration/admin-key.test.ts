import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminApiKey } from '../../lib/adapters/admin-key';

/**
 * Deployed stages read the admin key from an SSM SecureString. No SSM runs here,
 * so an HTTP server speaking SSM's GetParameter (AWS JSON 1.1) stands in for it:
 * the SDK client, Powertools Parameters and its cache are the real ones.
 */
const parameters = new Map<string, string>([
  ['/ticket-booking/test/admin-api-key', 'adm_from_ssm_0123456789abcdef'],
  ['/ticket-booking/test/too-short', 'short'],
]);
const requests: { target: string | undefined; name: string; decrypt: boolean }[] = [];
let server: Server;
const SSM_ENV = ['AWS_ENDPOINT_URL_SSM', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const saved = Object.fromEntries(SSM_ENV.map((name) => [name, process.env[name]]));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const input = JSON.parse(body) as { Name: string; WithDecryption?: boolean };
      requests.push({ target: req.headers['x-amz-target'] as string | undefined, name: input.Name, decrypt: input.WithDecryption === true });
      const value = parameters.get(input.Name);
      res.writeHead(value === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          value === undefined
            ? { __type: 'ParameterNotFound', message: `${input.Name} not found` }
            : { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  for (const name of SSM_ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await new Promise((resolve) => server.close(resolve));
});

describe('adminApiKey', () => {
  it('takes the key from ADMIN_API_KEY when it is set, without asking SSM', async () => {
    await expect(adminApiKey({ ADMIN_API_KEY: 'adm_local_0123456789', ADMIN_API_KEY_PARAMETER: '/ticket-booking/test/admin-api-key' })).resolves.toBe(
      'adm_local_0123456789',
    );
    expect(requests).toEqual([]);
  });

  it('reads the SecureString, decrypted, from SSM, and keeps it for the next requests', async () => {
    const config = { ADMIN_API_KEY: undefined, ADMIN_API_KEY_PARAMETER: '/ticket-booking/test/admin-api-key' };
    await expect(adminApiKey(config)).resolves.toBe('adm_from_ssm_0123456789abcdef');
    await expect(adminApiKey(config)).resolves.toBe('adm_from_ssm_0123456789abcdef');
    expect(requests).toEqual([{ target: 'AmazonSSM.GetParameter', name: '/ticket-booking/test/admin-api-key', decrypt: true }]);
  });

  it('refuses a parameter that holds less than 16 characters', async () => {
    await expect(adminApiKey({ ADMIN_API_KEY: undefined, ADMIN_API_KEY_PARAMETER: '/ticket-booking/test/too-short' })).rejects.toThrow(
      'must hold a key of at least 16 characters',
    );
  });

  it('fails, rather than letting anyone in, when the parameter cannot be read', async () => {
    await expect(adminApiKey({ ADMIN_API_KEY: undefined, ADMIN_API_KEY_PARAMETER: '/ticket-booking/test/missing' })).rejects.toThrow();
  });
});
