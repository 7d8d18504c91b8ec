import { TOKEN_SCOPES, type TokenScope } from '../db/credentials-repo.ts';
import type { Access } from '../workflows/access.ts';
import { Role } from '../workflows/roles.ts';
import { formatGrants, formatTokens, formatWhoAmI } from './format.ts';

export type AccessCommandContext = {
  json: boolean;
  /** `--name` and `--scope`, for `token create`. */
  name?: string;
  scope?: string;
  io: { out(line: string): void; err(line: string): void };
  /** Prints `message` with the usage text; the exit code. */
  usage(message: string): number;
  /** Runs `fn` with the Access of the CLI's credential. */
  withAccess(fn: (access: Access) => Promise<number>): Promise<number>;
};

/** `steward whoami | roles | grant | revoke | token …`: who is who, and who may do what. */
export async function accessCommand(
  command: 'whoami' | 'roles' | 'grant' | 'revoke' | 'token',
  args: string[],
  { json, name, scope, io, usage, withAccess }: AccessCommandContext,
): Promise<number> {
  switch (command) {
    case 'whoami':
      return withAccess(async (access) => {
        const me = await access.whoami();
        io.out(json ? JSON.stringify(me, null, 2) : formatWhoAmI(me));
        return 0;
      });
    case 'roles':
      return withAccess(async (access) => {
        const grants = await access.roles();
        io.out(json ? JSON.stringify(grants, null, 2) : formatGrants(grants));
        return 0;
      });
    case 'grant': {
      const [user, role, pipeline] = args;
      const parsed = Role.safeParse(role);
      if (!user || !parsed.success)
        return usage('write `steward grant <user> <viewer|operator|approver|admin> [pipeline]`');
      return withAccess(async (access) => {
        await access.grant({ user, role: parsed.data, ...(pipeline ? { pipeline } : {}) });
        io.out(`${user} is ${parsed.data} ${pipeline ? `on ${pipeline}` : 'everywhere'}`);
        return 0;
      });
    }
    case 'revoke': {
      const [user, pipeline] = args;
      if (!user) return usage('write `steward revoke <user> [pipeline]`');
      return withAccess(async (access) => {
        const removed = await access.revoke({ user, ...(pipeline ? { pipeline } : {}) });
        if (!removed) {
          io.err(`${user} held no ${pipeline ? `role on ${pipeline}` : 'global role'}; nothing changed`);
          return 1;
        }
        io.out(`${user} no longer has a ${pipeline ? `role on ${pipeline}` : 'global role'}`);
        return 0;
      });
    }
    case 'token':
      return tokenCommand(args);
  }

  async function tokenCommand([sub, arg]: string[]): Promise<number> {
    if (sub === 'create') {
      if (!arg) return usage('write `steward token create <user> [--name laptop] [--scope predict]`');
      if (scope !== undefined && !TOKEN_SCOPES.includes(scope as TokenScope)) {
        return usage(
          `--scope is ${TOKEN_SCOPES.join(' or ')}; predict limits a token to the serving endpoints`,
        );
      }
      return withAccess(async (access) => {
        const created = await access.createToken({
          user: arg,
          ...(name ? { name: name } : {}),
          ...(scope ? { scope: scope as TokenScope } : {}),
        });
        if (json) io.out(JSON.stringify(created, null, 2));
        else {
          io.out(created.token);
          io.err(
            `${created.id} for ${created.user} (${created.name}); it is shown only now. ` +
              (created.scope === 'predict'
                ? 'It may call only the prediction endpoints, as `Authorization: Bearer …`.'
                : `Use it as STEWARD_TOKEN=… for the CLI, or \`Authorization: Bearer …\` for the REST API.`),
          );
        }
        return 0;
      });
    }
    if (sub === 'list') {
      return withAccess(async (access) => {
        const tokens = await access.listTokens();
        io.out(json ? JSON.stringify(tokens, null, 2) : formatTokens(tokens));
        return 0;
      });
    }
    if (sub === 'revoke' && arg) {
      return withAccess(async (access) => {
        await access.revokeToken(arg);
        io.out(`${arg} revoked`);
        return 0;
      });
    }
    return usage('write `steward token create <user>`, `steward token list` or `steward token revoke <id>`');
  }
}
