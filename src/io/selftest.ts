/**
 * A small program for the socket integration tests, run inside a namespace:
 *   node selftest.js recv IFNAME ETHERTYPE COUNT TIMEOUT_MS   → prints JSON {received, hex[], kernel, promisc}
 *   node selftest.js send IFNAME ETHERTYPE COUNT [HEXFRAME]   → sends COUNT copies (default: a generated frame)
 */
import { fromHex, toHex } from '../../pdu/bytes.js';
import { linkInfo, PacketSocket } from './packet-socket.js';

const [cmd, ifname, etherHex, countS, arg] = process.argv.slice(2);
const ethertype = parseInt(etherHex ?? '88cc', 16);
const count = Number(countS ?? 1);

if (cmd === 'recv') {
  const got: string[] = [];
  const sock = PacketSocket.open({
    ifname: ifname!,
    ethertype,
    multicast: ['01:80:c2:00:00:00'],
    onFrame: (f) => {
      got.push(toHex(f));
      if (got.length >= count) finish();
    },
  });
  process.stdout.write(`ready ${sock.rcvbuf}\n`);
  const timer = setTimeout(finish, Number(arg ?? 5000));
  function finish(): void {
    clearTimeout(timer);
    const kernel = sock.kernelStats();
    const promisc = linkInfo(ifname!).promisc;
    sock.close();
    process.stdout.write(JSON.stringify({ received: got.length, first: got.slice(0, 3), distinct: new Set(got).size, kernel, promisc, counters: sock.counters }) + '\n');
  }
} else if (cmd === 'send') {
  const sock = PacketSocket.open({ ifname: ifname!, ethertype, multicast: [], onFrame: () => {} });
  const me = linkInfo(ifname!).mac;
  for (let i = 0; i < count; i++) {
    const frame = arg ? fromHex(arg) : fromHex(`0180c2000000${me.replace(/:/g, '')}${ethertype.toString(16).padStart(4, '0')}${i.toString(16).padStart(8, '0')}${'00'.repeat(42)}`);
    if (!sock.send(frame)) process.stderr.write(`send ${i} failed\n`);
  }
  sock.close();
  process.stdout.write(JSON.stringify({ sent: sock.counters.tx, errors: sock.counters.txErrors }) + '\n');
} else {
  process.stderr.write('usage: selftest recv|send IFNAME ETHERTYPE COUNT [TIMEOUT_MS|HEXFRAME]\n');
  process.exit(2);
}
