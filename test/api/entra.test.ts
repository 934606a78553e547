// Microsoft Entra ID's provisioning client, replayed: the request sequences of Microsoft's
// "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID" (test
// connection, user and group matching, creation, disable, deletion), recorded as fixtures in
// test/fixtures/entra/ (each names its source), played step by step against the real server on a
// fresh tenant. Each response is checked for its status, Content-Type application/scim+json, the
// RFC 7644 §3.12 error shape and the fixture's checks (engine: test/fixtures/replay.ts).
//
// The PATCH sequences in test/fixtures/entra/patch/ are replayed too (PATCH is built, RFC 7644 §3.5.2).
import { createTenant, Harness, startHarness } from '../support/harness';
import { describeFixture, fixtureFiles } from '../fixtures/replay';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

for (const file of [...fixtureFiles('entra'), ...fixtureFiles('entra/patch')]) describeFixture(file, () => h, createTenant);

