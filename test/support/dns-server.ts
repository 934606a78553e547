// A small authoritative DNS server for tests, on 127.0.0.1 (UDP), built on dns2 2.x (3.x needs
// Node 22). The server under test is pointed at it with DNS_SERVERS, so domain proofs (TXT) and
// IdP host names (A/AAAA) are answered here and no test ever asks a real resolver. Names that
// were not set answer NXDOMAIN; `failing` makes every answer SERVFAIL (a resolver that cannot
// answer).
import dns2 from 'dns2';
import type { AddressInfo } from 'node:net';

const { Packet } = dns2;
// RFC 1035 §4.1.1 response codes (dns2's typings leave Packet.RCODE out).
const SERVFAIL = 2;
const NXDOMAIN = 3;

export interface TestDns {
  /** What DNS_SERVERS is set to: 127.0.0.1:<port>. */
  address: string;
  setA(name: string, addresses: string[]): void;
  setAAAA(name: string, addresses: string[]): void;
  setTxt(name: string, values: string[]): void;
  clear(name: string): void;
  /** Answer SERVFAIL to everything while true. */
  failing: boolean;
  /** Every question asked, as "TYPE name". */
  questions: string[];
  close(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { [Packet.TYPE.A]: 'A', [Packet.TYPE.AAAA]: 'AAAA', [Packet.TYPE.TXT]: 'TXT' };

export async function startTestDns(): Promise<TestDns> {
  const records = new Map<string, { A?: string[]; AAAA?: string[]; TXT?: string[] }>();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
  const state = { failing: false };
  const questions: string[] = [];
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [q] = request.questions;
    const type = TYPE_NAMES[q.type] ?? String(q.type);
    questions.push(`${type} ${key(q.name)}`);
    if (state.failing) {
      response.header.rcode = SERVFAIL;
      return void send(response);
    }
    const entry = records.get(key(q.name));
    if (!entry) {
      response.header.rcode = NXDOMAIN;
      return void send(response);
    }
    for (const value of (entry as Record<string, string[] | undefined>)[type] ?? []) {
      const base = { name: q.name, type: q.type, class: Packet.CLASS.IN, ttl: 1 };
      response.answers.push((type === 'TXT' ? { ...base, data: value } : { ...base, address: value }) as never);
    }
    send(response);
  });
  await server.listen(0, '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  const set = (type: 'A' | 'AAAA' | 'TXT') => (name: string, values: string[]) => records.set(key(name), { ...records.get(key(name)), [type]: values });
  return {
    address: `127.0.0.1:${port}`,
    setA: set('A'),
    setAAAA: set('AAAA'),
    setTxt: set('TXT'),
    clear: (name) => void records.delete(key(name)),
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    questions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
