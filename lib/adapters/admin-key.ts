import type { Config } from '../config';

/**
 * The admin API key. Deployed stages keep it in SSM Parameter Store (a SecureString
 * created out of band, never in the repository or the template) and read it here,
 * cached for five minutes (Powertools Parameters), so a rotated key takes effect
 * without a deployment. The local stack passes it in ADMIN_API_KEY.
 *
 * Powertools Parameters, and the SSM client under it, are loaded on the first read
 * of the parameter, not with the bundle: the authorizer runs before every request,
 * and where the key comes from the environment the SSM client (tens of
 * milliseconds of module loading) would only lengthen its cold start.
 */
export async function adminApiKey(config: Pick<Config, 'ADMIN_API_KEY' | 'ADMIN_API_KEY_PARAMETER'>): Promise<string> {
  if (config.ADMIN_API_KEY) return config.ADMIN_API_KEY;
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  const key = await getParameter(config.ADMIN_API_KEY_PARAMETER!, { decrypt: true, maxAge: 300 });
  if (!key || key.length < 16) throw new Error(`SSM parameter ${config.ADMIN_API_KEY_PARAMETER} must hold a key of at least 16 characters`);
  return key;
}
