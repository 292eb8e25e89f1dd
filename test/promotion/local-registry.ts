import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** Which of the tools the registry tests need are missing (empty when all are installed). */
export function missingTools(): string[] {
  return ["docker-registry", "skopeo"].filter(
    (bin) => spawnSync(bin, ["--version"], { stdio: "ignore" }).error !== undefined,
  );
}

/** A real OCI registry (Debian's docker-registry, distribution 2.8) on a free loopback port. */
export class LocalRegistry {
  private constructor(
    readonly host: string,
    private readonly proc: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<LocalRegistry> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-"));
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(
      config,
      [
        "version: 0.1",
        "log: { level: error }",
        `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} } }`,
        `http: { addr: 127.0.0.1:${port} }`,
        "",
      ].join("\n"),
    );
    const proc = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (d) => (stderr += String(d)));
    const reg = new LocalRegistry(`127.0.0.1:${port}`, proc, dir);
    // Set-up, not an assertion: wait until the registry answers its API base.
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) break;
      try {
        if ((await fetch(`http://${reg.host}/v2/`)).ok) return reg;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await reg.stop();
    throw new Error(`docker-registry did not start on ${reg.host}: ${stderr.trim() || "no output"}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Pushes a tiny image (a config blob, a layer blob and an OCI manifest) through the registry's HTTP
   * API and returns its digest. `seed` makes distinct images.
   */
  async pushImage(repository: string, seed: string): Promise<string> {
    const layer = Buffer.from(`layer of ${seed}\n`);
    const config = Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }),
    );
    await this.pushBlob(repository, config);
    await this.pushBlob(repository, layer);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length }],
      }),
    );
    const digest = sha256(manifest);
    const res = await fetch(`http://${this.host}/v2/${repository}/manifests/${digest}`, {
      method: "PUT",
      body: manifest,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    if (res.status !== 201)
      throw new Error(`manifest push to ${this.host}/${repository} failed: ${res.status} ${await res.text()}`);
    return digest;
  }

  /** The digest the registry reports for a manifest, or undefined when it has none. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const res = await fetch(`http://${this.host}/v2/${repository}/manifests/${reference}`, {
      method: "HEAD",
      headers: {
        accept:
          "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json",
      },
    });
    return res.ok ? (res.headers.get("docker-content-digest") ?? undefined) : undefined;
  }

  private async pushBlob(repository: string, blob: Buffer): Promise<void> {
    const start = await fetch(`http://${this.host}/v2/${repository}/blobs/uploads/`, { method: "POST" });
    if (start.status !== 202) throw new Error(`blob upload to ${this.host}/${repository} refused: ${start.status}`);
    const url = new URL(start.headers.get("location")!, `http://${this.host}`);
    url.searchParams.set("digest", sha256(blob));
    const put = await fetch(url, {
      method: "PUT",
      body: blob,
      headers: { "content-type": "application/octet-stream" },
    });
    if (put.status !== 201) throw new Error(`blob upload to ${this.host}/${repository} failed: ${put.status}`);
  }
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
