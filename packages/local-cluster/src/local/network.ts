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

export async function setupNetwork(n: NetPlan, apiserverPort: number, signal: AbortSignal): Promise<void> {
  const ip = (...args: string[]): Promise<unknown> => run('ip', args, { signal });
  const nodeLink = `gck${n.slot}n`;
  await ip('netns', 'add', n.netns);
  await ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', nodeLink, 'netns', n.netns);
  await ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
  await ip('link', 'set', n.hostIf, 'up');
  await ip('-n', n.netns, 'link', 'set', nodeLink, 'name', n.nodeIf);
  await ip('-n', n.netns, 'addr', 'add', `${n.nodeIp}/30`, 'dev', n.nodeIf);
  await ip('-n', n.netns, 'link', 'set', n.nodeIf, 'up');
  await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
  await ip('-n', n.netns, 'route', 'add', 'default', 'via', n.hostIp);
  // the host reaches pods and ClusterIPs through the node
  await ip('route', 'add', n.podCidr, 'via', n.nodeIp, 'dev', n.hostIf);
  await ip('route', 'add', n.serviceCidr, 'via', n.nodeIp, 'dev', n.hostIf);
  // forwarding: host (egress of the node) and node (pods, services)
  mkdirSync(RUN_DIR, { recursive: true });
  if (!existsSync(ipForwardFile())) writeFileSync(ipForwardFile(), readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'));
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.route_localnet=1'], {
    signal,
  });
  await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'], { signal, allowFail: true });
  // one nft table per cluster on the host (egress, ClusterIP, what node and pods reach on the host),
  // removed on down; and the node's own (martian loopback traffic), gone with the netns
  await run('nft', ['-f', '-'], { input: hostNftRules({ plan: n, apiserverPort, hostDns: hostLocalNameservers() }), signal });
  await run('nsenter', [`--net=${n.netnsPath}`, 'nft', '-f', '-'], { input: nodeNftRules(), signal });
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

/** The cluster's netns is mounted and its host veth exists (false after a reboot or manual cleanup). */
export async function networkIntact(n: NetPlan): Promise<boolean> {
  if (mountsUnder([n.netnsPath]).length === 0) return false;
  return (await run('ip', ['link', 'show', n.hostIf], { allowFail: true })).code === 0;
}
