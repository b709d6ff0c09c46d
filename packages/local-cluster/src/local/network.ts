// The cluster's network: its namespace gckN with a veth to the host, routes to pods and services,
// forwarding, and the nft tables of host and node (built by config/nft.ts).

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { RUN_DIR, type NetPlan } from '../host.js';
import { hostNftRules, nodeNftRules, parseNameservers } from '../config/nft.js';
import { run } from '../proc.js';
import { mountsUnder } from './procfs.js';

/** net.ipv4.ip_forward as it was before the first local cluster set it (restored after the last). */
function ipForwardFile(): string {
  return join(RUN_DIR, 'ip_forward.orig');
}

/** Nameservers of the host's resolv.conf that are addresses of this host (CoreDNS forwards there). */
function hostLocalNameservers(): string[] {
  let text: string;
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  const own = new Set(
    Object.values(networkInterfaces()).flatMap((a) => (a ?? []).filter((x) => x.family === 'IPv4' && !x.internal).map((x) => x.address)),
  );
  return parseNameservers(text).filter((ip) => own.has(ip));
}

/**
 * The network of every node (node 1 first): its netns with a veth to the host, the host's routes
 * to its pods (and, through node 1, to the ClusterIPs), forwarding, the host's nft table of the
 * cluster and each node's own. Nodes reach each other's pods through the host, unNATed.
 */
export async function setupNetwork(nodes: readonly NetPlan[], apiserverPort: number, signal: AbortSignal): Promise<void> {
  const first = nodes[0];
  if (first === undefined) throw new Error('setupNetwork: no node');
  for (const n of nodes) await setupNodeLink(n, n === first, signal);
  // every node routes the other nodes' pod CIDRs via the host (its default route would too;
  // explicit routes say it, and survive a changed default)
  if (nodes.length > 1) {
    for (const n of nodes) {
      for (const o of nodes) {
        if (o !== n) await run('ip', ['-n', n.netns, 'route', 'add', o.podCidr, 'via', n.hostIp], { signal });
      }
    }
  }
  // forwarding: host (egress of the node) and node (pods, services)
  mkdirSync(RUN_DIR, { recursive: true });
  if (!existsSync(ipForwardFile())) writeFileSync(ipForwardFile(), readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'));
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  for (const n of nodes) {
    await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.route_localnet=1'], {
      signal,
    });
    await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'], { signal, allowFail: true });
  }
  // one nft table per cluster on the host (egress, ClusterIP, what nodes and pods reach on the host),
  // removed on down; and each node's own (martian loopback traffic), gone with its netns
  await run('nft', ['-f', '-'], {
    input: hostNftRules({ plan: first, apiserverPort, hostDns: hostLocalNameservers(), ...(nodes.length > 1 ? { nodes } : {}) }),
    signal,
  });
  for (const n of nodes) await run('nsenter', [`--net=${n.netnsPath}`, 'nft', '-f', '-'], { input: nodeNftRules(), signal });
}

/** A node's netns, its veth pair to the host, its default route, and the host's route to its pods (node 1: and to the ClusterIPs). */
async function setupNodeLink(n: NetPlan, first: boolean, signal: AbortSignal): Promise<void> {
  const ip = (...args: string[]): Promise<unknown> => run('ip', args, { signal });
  // the node end is made under a temporary name inside the netns, then renamed eth0
  const nodeLink = first ? `gck${n.slot}n` : `${n.netns}e`;
  await ip('netns', 'add', n.netns);
  await ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', nodeLink, 'netns', n.netns);
  await ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
  await ip('link', 'set', n.hostIf, 'up');
  await ip('-n', n.netns, 'link', 'set', nodeLink, 'name', n.nodeIf);
  await ip('-n', n.netns, 'addr', 'add', `${n.nodeIp}/30`, 'dev', n.nodeIf);
  await ip('-n', n.netns, 'link', 'set', n.nodeIf, 'up');
  await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
  await ip('-n', n.netns, 'route', 'add', 'default', 'via', n.hostIp);
  // the host reaches the node's pods (and node 1's ClusterIPs) through the node
  await ip('route', 'add', n.podCidr, 'via', n.nodeIp, 'dev', n.hostIf);
  if (first) await ip('route', 'add', n.serviceCidr, 'via', n.nodeIp, 'dev', n.hostIf);
}

/** Puts the host's ip_forward back as it was before the first local cluster (call after the last is gone). */
export function restoreIpForward(): void {
  if (!existsSync(ipForwardFile())) return;
  try {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', readFileSync(ipForwardFile(), 'utf8').trim());
    rmSync(ipForwardFile(), { force: true });
  } catch {
    // leave it
  }
}

/** Every node's netns is mounted and its host veth exists (false after a reboot or manual cleanup). */
export async function networkIntact(nodes: readonly NetPlan[]): Promise<boolean> {
  for (const n of nodes) {
    if (mountsUnder([n.netnsPath]).length === 0) return false;
    if ((await run('ip', ['link', 'show', n.hostIf], { allowFail: true })).code !== 0) return false;
  }
  return true;
}
