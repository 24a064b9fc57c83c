import { api } from './client';

describe('service routes', () => {
  it('GET /health answers ok', async () => {
    const response = await api('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json is an OpenAPI 3.1 document of every route', async () => {
    const response = await api('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(Object.keys(response.body.paths).sort()).toEqual(
      [
        '/bookings',
        '/bookings/{id}',
        '/bookings/{id}/cancel',
        '/bookings/{id}/payment',
        '/events',
        '/events/{id}',
        '/events/{id}/stats',
        '/events/{id}/waitlist',
        '/health',
        '/openapi.json',
        '/users',
        '/users/me',
        '/waitlist',
        '/waitlist/{id}',
        '/webhooks',
        '/webhooks/{id}',
        '/webhooks/{id}/deliveries',
      ].sort(),
    );
  });
});
