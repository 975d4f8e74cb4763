/* Crash-safe on-disk stores: one generic file format and its atomic writer.
 *
 * Every persistent addr/ structure (address manager, ban list, anchors) is
 * saved as one file:
 *
 *   magic u32 LE | version u32 LE | body_len u64 LE | body | SHA256d(all before)
 *
 * A save writes a temporary file next to the target, fsyncs it, renames it
 * over the target and fsyncs the directory, so after a crash at any point the
 * path holds either the old or the new content, never a mix. The temporary
 * is path.new-<16 random hex digits>, created with O_EXCL|O_NOFOLLOW (a file
 * or symlink planted under that name is never written through) and mode
 * 0600; a save first removes temporaries of its target that an earlier
 * crash left. Every store is 0600, not only the address manager's (which
 * holds the bucketing secret): the ban list and anchors say whom we know
 * and whom we keep connected, which an eclipse attacker would want; Core
 * does the same by running with umask 077 unless -sysperms. A load checks
 * every byte; a file that is truncated, corrupt, of another kind or from a
 * newer version is renamed aside (path.bad-<n>) so the caller can start fresh
 * without destroying the evidence. Blocking file I/O: call from the thread
 * that owns persistence (the coordinator), never from a worker ring. */
#ifndef CR_ADDR_STORE_H
#define CR_ADDR_STORE_H

#include <stddef.h>
#include <stdint.h>

#define CR_STORE_MAX_BODY (256u << 20)
#define CR_STORE_HEADER_LEN 16u
#define CR_STORE_CHECKSUM_LEN 32u

/* Atomically replaces path with header(magic, version) + body + checksum.
 * Returns 0 or -errno/CR_E_*; on failure the old file is untouched (the
 * temporary is removed). The one exception: when only the final
 * fsync of the directory fails, the new file is already in place (complete
 * and synced) and the error says its name may not yet be durable. body may
 * be NULL when body_len is 0. The file is mode 0600 (less if umask says). */
int cr_store_save(const char *path, uint32_t magic, uint32_t version,
		  const uint8_t *body, size_t body_len);

/* Loads path. Returns 0 with *body malloc'd (caller frees; non-NULL even for
 * an empty body) and *version set; -ENOENT when absent; a negative
 * CR_E_STORE_* when truncated, corrupt, wrong magic or a version above
 * max_version -- in that case the file has been moved aside and why (if
 * non-NULL) holds a readable reason incl. the new name. Other -errno (EACCES,
 * EIO...) leave the file in place. On any failure *body is NULL, *body_len
 * and *version 0. */
int cr_store_load(const char *path, uint32_t magic, uint32_t max_version,
		  uint32_t *version, uint8_t **body, size_t *body_len,
		  char *why, size_t why_len);

/* Checks a whole file image in memory (what cr_store_load does after
 * reading). Returns 0 with *body pointing into img, or a CR_E_STORE_* with
 * a reason in reason (if non-NULL). Touches no file; for fuzzing and tools. */
int cr_store_parse(const uint8_t *img, size_t len, uint32_t magic, uint32_t max_version,
		   uint32_t *version, const uint8_t **body, size_t *body_len,
		   char *reason, size_t reason_len);

/* Moves path aside to path.bad-<n> (the first n in 1..9999 not taken), for a
 * caller whose body decoder rejected a file that cr_store_load accepted.
 * reason is prefixed to the message written to why (if non-NULL).
 * Returns 0 or -errno. */
int cr_store_set_aside(const char *path, const char *reason, char *why, size_t why_len);

#endif
