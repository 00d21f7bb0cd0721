// A real OpenID Connect provider on loopback for the single sign-on tests
// (tests/e2e/test_sso_e2e.py starts and stops it): oidc-provider, a certified
// implementation, with one confidential client and its built-in sign-in pages.
//
//   OIDC_PORT=... OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... \
//   OIDC_REDIRECT_URI=http://127.0.0.1:8000/accounts/oidc/<id>/login/callback/ \
//   node tests/e2e/oidc_provider.mjs
//
// The sign-in page takes any login and any password. The login is the
// account: "ada.lovelace@trust.example" is that address with
// email_verified true, given name "Ada" and family name "Lovelace";
// "unverified:ada.lovelace@trust.example" the same with email_verified false.
// It prints one line, "oidc-provider ready <issuer>", once it is listening.

import http from "node:http";

import Provider from "oidc-provider";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`oidc_provider.mjs: set ${name}`);
    process.exit(2);
  }
  return value;
};

const port = Number(process.argv[2] || env("OIDC_PORT"));
const issuer = `http://127.0.0.1:${port}`;
const UNVERIFIED = "unverified:";

function claimsFor(accountId) {
  const verified = !accountId.startsWith(UNVERIFIED);
  const email = verified ? accountId : accountId.slice(UNVERIFIED.length);
  const words = email.split("@")[0].split(/[._-]+/).filter(Boolean);
  const title = (w) => w.charAt(0).toUpperCase() + w.slice(1);
  const given = title(words[0] || "Test");
  const family = title(words.slice(1).join(" ") || "Person");
  return {
    sub: accountId,
    email,
    email_verified: verified,
    given_name: given,
    family_name: family,
    name: `${given} ${family}`,
  };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env("OIDC_CLIENT_ID"),
      client_secret: env("OIDC_CLIENT_SECRET"),
      redirect_uris: [env("OIDC_REDIRECT_URI")],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
  },
  async findAccount(ctx, id) {
    return { accountId: id, claims: async () => claimsFor(id) };
  },
  features: { devInteractions: { enabled: true } },
  // Fixed keys: these cookies only ever live in a test browser.
  cookies: { keys: ["tests-only-not-secret"] },
});
// The dev pages and the "development keys" warnings are expected here.
provider.on("server_error", (ctx, error) => console.error(error));

const server = http.createServer(provider.callback());
server.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider ready ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
