// A real OpenID Provider for the single sign-on tests (panva/oidc-provider), never deployed.
//
//   node provider.mjs CONFIG.json
//
// CONFIG.json: {"port": 0, "clients": [...oidc-provider client metadata...],
//               "accounts": "/path/accounts.json"}
// accounts.json maps a login to its claims ({"ana": {"email": "ana@example.gov"}}); it is
// read again at every sign-in, so a test may change an account's email between two.
// A login not in the file signs in with <login>@example.gov, verified.
//
// Prints one JSON line per thing a test may check: {"listening": issuer} once ready,
// then {"event": "token", ...} for each code exchanged (the client's authentication
// method, whether a PKCE code_verifier came), {"event": "authorization", ...} (the
// acr_values asked for) and {"event": "end_session", ...}.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function say(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function claimsOf(login) {
  let accounts = {};
  try {
    accounts = JSON.parse(readFileSync(config.accounts, 'utf8'));
  } catch {
    accounts = {};
  }
  const known = accounts[login];
  if (known === undefined) {
    return { email: `${login}@example.gov`, email_verified: true };
  }
  const claims = { ...known };
  if (claims.email === null) {
    delete claims.email;
  } else if (claims.email_verified === undefined) {
    claims.email_verified = true;
  }
  return claims;
}

const server = await new Promise((resolve) => {
  // Port 0: the system picks a free one; the issuer is known once it listens.
  import('node:http').then(({ createServer }) => {
    const s = createServer();
    s.listen(config.port || 0, '127.0.0.1', () => resolve(s));
  });
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// The levels of assurance (acr) this provider offers, as Login.gov's IAL1.
const OFFERED_ACRS = ['http://idmanagement.gov/ns/assurance/ial/1'];

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email'],
  acrValues: OFFERED_ACRS,
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return { sub: id, ...claimsOf(id) }; } };
  },
  // Consent is given for every client: the tests are about the relying party.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
  pkce: {
    // As Login.gov does for private_key_jwt clients: no code_verifier, no token.
    required: (_ctx, client) => client.clientAuthMethod === 'private_key_jwt'
      || client.clientAuthMethod === 'none',
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // Plain http on loopback: no TLS in the test suite.
  cookies: { keys: ['sdif-test-provider-cookie-key'] },
});

// As Login.gov does, the ID token names the level the sign-in reached (its acr claim):
// the first level asked for in acr_values that this provider offers, or none. The
// development login sets no level, so it is added to the login's result just before
// the authorization resumes with it.
provider.use(async (ctx, next) => {
  const resuming = /^\/auth\/([^/]+)$/.exec(ctx.path);
  if (resuming) {
    const interaction = await provider.Interaction.find(resuming[1]);
    const login = interaction?.result?.login;
    if (login && !login.acr) {
      const asked = String(interaction.params?.acr_values || '').split(' ');
      const reached = asked.find((value) => OFFERED_ACRS.includes(value));
      if (reached) {
        login.acr = reached;
        await interaction.persist();
      }
    }
  }
  await next();
});

provider.on('grant.success', (ctx) => {
  say({
    event: 'token',
    client: ctx.oidc.client.clientId,
    auth: ctx.oidc.client.clientAuthMethod,
    client_assertion: Boolean(ctx.oidc.params.client_assertion),
    code_verifier: Boolean(ctx.oidc.params.code_verifier),
  });
});
provider.on('authorization.success', (ctx) => {
  say({
    event: 'authorization',
    client: ctx.oidc.client.clientId,
    acr_values: ctx.oidc.params.acr_values || null,
    code_challenge: Boolean(ctx.oidc.params.code_challenge),
  });
});
provider.on('end_session.success', (ctx) => {
  say({ event: 'end_session', client: ctx.oidc.client?.clientId || null });
});
for (const name of ['grant.error', 'authorization.error', 'server_error', 'end_session.error']) {
  provider.on(name, (_ctx, error) => {
    say({ event: name, error: error.error || error.name, detail: error.error_description });
  });
}

server.on('request', provider.callback());
say({ listening: issuer });
