// Okta's SCIM client, replayed: the request sequences of Okta's SCIM 2.0 SPEC test and of its
// "SCIM 2.0 Protocol Reference", recorded as fixtures in test/fixtures/okta/ (each names its
// source), played step by step against the real server on a fresh tenant. Each response is
// checked for its status, Content-Type application/scim+json, the RFC 7644 §3.12 error shape and
// the fixture's checks (engine: test/fixtures/replay.ts).
//
// NOT REPLAYED HERE: the PATCH sequences in test/fixtures/okta/patch/ (deactivate/reactivate with
// a path-less replace, group rename and membership add/remove/replace). The server does not
// implement PATCH yet — it answers 501 — so they would fail; they are recorded for the issue that
// builds PATCH, which should replay them with describeFixture like the folder below. Until then
// they are only checked to be well-formed.
import { basename } from 'node:path';
import { createTenant, Harness, startHarness } from '../support/harness';
import { describeFixture, fixtureFiles, loadFixture } from '../fixtures/replay';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

for (const file of fixtureFiles('okta')) describeFixture(file, () => h, createTenant);

describe('recorded but not replayed yet', () => {
  const files = [...fixtureFiles('okta/patch'), ...fixtureFiles('pending').filter((f) => basename(f).startsWith('okta-'))];
  it.each(files.map((f) => [f.slice(f.indexOf('fixtures/') + 'fixtures/'.length), f]))('%s is a well-formed fixture', (_label, file) => {
    expect(() => loadFixture(file)).not.toThrow();
  });
});
