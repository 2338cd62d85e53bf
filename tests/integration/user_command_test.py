#!/usr/bin/env python3
"""`strowger user add|del|list|passwd` through the real binary, each test in a data directory of
its own: the outcomes and exit codes, refused names, and that no password reaches the disk."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, Server, run_tests


class UserCommand(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="strowger-it-users-")
        self.addCleanup(shutil.rmtree, self.data_dir, ignore_errors=True)

    def user(self, *args, realm=None):
        """Runs `strowger user ARGS...` against this test's store; returns the CompletedProcess."""
        command, rest = args[0], list(args[1:])
        settings = ["--set", f"general.data_dir={self.data_dir}"]
        if realm:
            settings += ["--set", f"general.realm={realm}"]
        # The options go after the sub-command, as `serve` takes them.
        return subprocess.run([BINARY, "user", command, *settings, *rest],
                              capture_output=True, text=True, timeout=30)

    def ok(self, *args, **kwargs):
        out = self.user(*args, **kwargs)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def listed(self):
        """{name: {column: value}} from `user list`."""
        users = {}
        for line in self.ok("list").splitlines():
            name, *columns = line.split("\t")
            users[name] = dict(c.split("=", 1) for c in columns if "=" in c)
        return users

    def database_bytes(self):
        data = b""
        for name in os.listdir(self.data_dir):  # strowger.db and its -wal, -shm
            with open(os.path.join(self.data_dir, name), "rb") as f:
                data += f.read()
        return data

    def test_add_list_passwd_del(self):
        self.assertEqual(self.ok("add", "alice", "secret"),
                         "user alice added (realm strowger)\n")
        self.ok("add", "bob", "hunter2")
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "strowger.db")))

        users = self.listed()
        self.assertEqual(list(users), ["alice", "bob"])
        self.assertEqual(users["alice"]["realm"], "strowger")
        self.assertRegex(users["alice"]["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        self.assertIn("alice", self.ok("passwd", "alice", "n3w-secret"))
        self.assertEqual(list(self.listed()), ["alice", "bob"])

        self.assertEqual(self.ok("del", "alice"), "user alice deleted\n")
        self.assertEqual(list(self.listed()), ["bob"])
        self.ok("del", "bob")
        self.assertEqual(self.ok("list"), "")

    def test_keys_are_stored_not_the_password(self):
        password = "Plain-Text-Pa55word"
        self.ok("add", "alice", password)
        self.ok("add", "carol", "x" + password)
        self.ok("passwd", "carol", password + "y")
        data = self.database_bytes()
        self.assertNotIn(password.encode(), data)
        # What is stored is MD5("alice:strowger:password"), the STUN long-term key (hex).
        key = hashlib.md5(f"alice:strowger:{password}".encode()).hexdigest()
        self.assertIn(key.encode(), data)
        key256 = hashlib.sha256(f"alice:strowger:{password}".encode()).hexdigest()
        self.assertIn(key256.encode(), data)

    def test_duplicate_add_fails(self):
        self.ok("add", "alice", "secret")
        out = self.user("add", "alice", "other")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("already exists", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_unknown_user_fails(self):
        for args in (("del", "nobody"), ("passwd", "nobody", "secret")):
            out = self.user(*args)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertIn("no such user", out.stderr)
        self.assertEqual(self.listed(), {})

    def test_invalid_names_and_passwords_are_refused(self):
        for name, problem in (("a:b", "':'"), ("", "empty"), ("a b", "space"),
                              ("x" * 129, "longer")):
            out = self.user("add", name, "secret")
            self.assertIn(out.returncode, (1, 2), f"{name!r}: {out.stdout}{out.stderr}")
            self.assertIn(problem, out.stderr, name)
        out = self.user("add", "alice", "")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("password must not be empty", out.stderr)
        out = self.user("add", "alice", "two\nlines")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertNotIn("two", out.stderr, "the error repeats the password")
        self.assertEqual(self.listed(), {})

    def test_changing_the_realm_needs_the_password_set_again(self):
        self.ok("add", "alice", "secret")
        line = self.ok("list", realm="example.org")
        self.assertIn("realm=strowger", line)
        self.assertIn("stale", line)
        self.assertIn("realm example.org", self.ok("passwd", "alice", "secret",
                                                   realm="example.org"))
        line = self.ok("list", realm="example.org")
        self.assertIn("realm=example.org", line)
        self.assertNotIn("stale", line)
        key = hashlib.md5(b"alice:example.org:secret").hexdigest()
        self.assertIn(key.encode(), self.database_bytes())

    def test_config_file_and_usage_errors(self):
        config = os.path.join(self.data_dir, "strowger.toml")
        store = os.path.join(self.data_dir, "from-file")
        with open(config, "w") as f:
            f.write(f'[general]\ndata_dir = "{store}"\nrealm = "file.example"\n')
        out = subprocess.run([BINARY, "user", "add", "-c", config, "alice", "pw"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("realm file.example", out.stdout)
        self.assertTrue(os.path.exists(os.path.join(store, "strowger.db")))

        for args in (["user"], ["user", "add", "alice"], ["user", "frobnicate"],
                     ["user", "list", "--set", "general.threads=many"],
                     ["user", "list", "--set", "no.such_key=1"]):
            out = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, f"{args}: {out.stdout}{out.stderr}")
            self.assertTrue(out.stderr.strip(), args)

    def test_works_while_the_server_runs_on_the_same_store(self):
        with Server(data_dir=self.data_dir) as server:
            self.ok("add", "alice", "secret")
            self.assertEqual(list(self.listed()), ["alice"])
            code, _ = server.stop()
            self.assertEqual(code, 0, server.output())
        # The server's location store and the accounts live in the one file.
        self.assertEqual(list(self.listed()), ["alice"])
        with Server(data_dir=self.data_dir) as server:
            self.ok("del", "alice")
            code, _ = server.stop()
            self.assertEqual(code, 0, server.output())

    def test_unwritable_data_dir_fails(self):
        blocker = os.path.join(self.data_dir, "a-file")
        open(blocker, "w").close()
        out = subprocess.run([BINARY, "user", "list", "--set",
                              f"general.data_dir={blocker}/sub"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertTrue(re.search(r"general\.data_dir", out.stderr), out.stderr)


if __name__ == "__main__":
    run_tests()
