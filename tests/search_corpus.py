"""The searcher tests' repository (this module holds no tests): the sample files plus files chosen so
identifier, natural-language and flooding queries each have one right answer."""

from __future__ import annotations

from pathlib import Path

from samples import SAMPLE_FILES, write_files

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings

EXTRA_FILES = {
    "src/auth/tokens.py": '''
        """Issuing and checking signed session tokens."""

        import hmac


        def issue_refresh_token(user_id: str, secret: bytes) -> str:
            digest = hmac.new(secret, user_id.encode(), "sha256").hexdigest()
            return f"{user_id}.{digest}"


        def verify_signature(token: str, secret: bytes) -> bool:
            user_id, _, digest = token.partition(".")
            return hmac.compare_digest(issue_refresh_token(user_id, secret), token)
        ''',
    "src/util/checksum.rs": '''
        /// CRC-32 of a byte slice (IEEE polynomial), table-free.
        pub fn compute_crc32_checksum(data: &[u8]) -> u32 {
            let mut crc: u32 = 0xFFFF_FFFF;
            for byte in data {
                crc ^= *byte as u32;
                for _ in 0..8 {
                    let mask = (!(crc & 1)).wrapping_add(1);
                    crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
                }
            }
            !crc
        }
        ''',
    "src/db/SchemaMigrator.java": '''
        package db;

        import java.util.List;

        public class SchemaMigrator {
            private final List<String> pending;

            public SchemaMigrator(List<String> pending) {
                this.pending = pending;
            }

            public int applyPendingMigrations(Connection conn) {
                int applied = 0;
                for (String sql : pending) {
                    conn.execute(sql);
                    applied++;
                }
                return applied;
            }
        }
        ''',
    "src/images/thumbnails.py": '''
        def resize_thumbnail(image, max_width: int):
            """Scale the image down so it is at most max_width pixels wide, keeping its aspect ratio."""
            if image.width <= max_width:
                return image
            ratio = max_width / image.width
            return image.resize((max_width, round(image.height * ratio)))
        ''',
    "src/mail/smtp.go": '''
        package mail

        import "net/smtp"

        // SendEmail delivers a plain-text message through the configured relay.
        func SendEmail(relay string, to string, subject string, body string) error {
            msg := []byte("Subject: " + subject + "\\r\\n\\r\\n" + body)
            return smtp.SendMail(relay, nil, "noreply@example.com", []string{to}, msg)
        }
        ''',
    "src/stats/median.ts": '''
        export function median(values: number[]): number {
          const sorted = [...values].sort((a, b) => a - b);
          const mid = Math.floor(sorted.length / 2);
          return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
        ''',
}


def _retry_client() -> str:
    """A file with many retry-related functions: without a cap it would fill the results."""
    parts = ['"""HTTP client helpers that all deal with retries."""\n']
    for i in range(8):
        body = "\n".join(f"    step_{j} = retry_budget(attempt, {i * 10 + j})" for j in range(25))
        parts.append(f"def retry_variant_{i}(attempt):\n    \"\"\"Retry variant {i}.\"\"\"\n{body}\n"
                     "    return retry_budget\n")
    return "\n\n".join(parts)


def _big_class() -> str:
    """A class too long for one chunk: stored as a collapsed skeleton plus one chunk per method."""
    methods = []
    for i in range(8):
        body = "\n".join(f"        total_{j} = self.window_{j} * factor + {j}" for j in range(12))
        methods.append(f"    def rebalance_shard_{i}(self, factor):\n"
                       f"        \"\"\"Rebalance shard {i}.\"\"\"\n{body}\n        return total_0\n")
    return "class ShardBalancer:\n    \"\"\"Spreads keys over shards.\"\"\"\n\n" + "\n".join(methods)


def make_repo(root: Path) -> Path:
    write_files(root, {**SAMPLE_FILES, **EXTRA_FILES})
    (root / "src/http/client.py").write_text(_retry_client(), encoding="utf-8")
    (root / "src/shards/balancer.py").parent.mkdir(parents=True, exist_ok=True)
    (root / "src/shards/balancer.py").write_text(_big_class(), encoding="utf-8")
    return root


def index(root: Path, index_dir: Path, embedder: str = "hashing") -> Path:
    index_repo(root, IndexSettings(home=index_dir.parent / "home", index_dir=index_dir, embedder=embedder))
    return index_dir


def paths(hits) -> list[str]:
    return [h.path for h in hits]
