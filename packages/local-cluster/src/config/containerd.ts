// containerd's config (config/containerd.toml): roots under the cluster's state and run dirs, the
// CRI plugin with bookworm's runc, cgroupfs and our CNI config, and the pinned pause image.

import { join } from 'node:path';

export interface ContainerdConfigInput {
  /** persistent root (images, snapshots): <state>/containerd */
  readonly root: string;
  /** runtime state: <run>/containerd */
  readonly state: string;
  readonly socket: string;
  /** runc's state: <run>/runc */
  readonly runcRoot: string;
  readonly cniConfDir: string;
  /** the pause image, pinned as the sandbox image */
  readonly sandboxImage: string;
}

/**
 * restrict_oom_score_adj: containerd runs without CAP_SYS_RESOURCE here; bookworm's runc
 * (/usr/sbin/runc) because a newer one needs a newer glibc; the stream server on the netns's
 * loopback only (exec goes API server → kubelet → containerd).
 */
export function containerdConfig(i: ContainerdConfigInput): string {
  return [
    'version = 3',
    `root = '${i.root}'`,
    `state = '${i.state}'`,
    "disabled_plugins = ['io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.erofs', 'io.containerd.snapshotter.v1.blockfile', 'io.containerd.nri.v1.nri', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing']",
    '[grpc]',
    `  address = '${i.socket}'`,
    '[plugins]',
    "  [plugins.'io.containerd.cri.v1.images']",
    "    snapshotter = 'overlayfs'",
    "    [plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `      sandbox = '${i.sandboxImage}'`,
    "  [plugins.'io.containerd.cri.v1.runtime']",
    '    restrict_oom_score_adj = true',
    '    netns_mounts_under_state_dir = true',
    '    enable_selinux = false',
    "    [plugins.'io.containerd.cri.v1.runtime'.containerd]",
    "      default_runtime_name = 'runc'",
    "      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
    "        runtime_type = 'io.containerd.runc.v2'",
    "        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    '          SystemdCgroup = false',
    "          BinaryName = '/usr/sbin/runc'",
    `          Root = '${i.runcRoot}'`,
    "    [plugins.'io.containerd.cri.v1.runtime'.cni]",
    "      bin_dirs = ['/usr/lib/cni']",
    `      conf_dir = '${i.cniConfDir}'`,
    "  [plugins.'io.containerd.grpc.v1.cri']",
    "    stream_server_address = '127.0.0.1'",
    "    stream_server_port = '0'",
    "  [plugins.'io.containerd.internal.v1.opt']",
    `    path = '${join(i.root, 'opt')}'`,
    "  [plugins.'io.containerd.image-verifier.v1.bindir']",
    `    bin_dir = '${join(i.root, 'image-verifier')}'`,
    '',
  ].join('\n');
}
