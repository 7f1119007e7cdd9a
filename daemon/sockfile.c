// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's listening Unix sockets, up to listen(): what must hold of
 * the directory, the socket file and its mode before anyone can connect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "sockfile.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == SOCKFILE_PATH_SIZE, "sun_path size");

/* mkdir -p of @dir, 0755 for what is created. */
static int make_dirs(const char *what, char *dir, char *err, size_t errlen)
{
	for (char *p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int ret = -errno;

			snprintf(err, errlen, "%s: creating %s: %s", what, dir, strerror(errno));
			return ret;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * Only the immediate parent is checked: above it, symlinks such as
 * /var/run are normal, and a foreign writer of a higher directory cannot
 * touch entries of one it does not own (/tmp is sticky).
 */
int sockfile_open_parent(const char *what, const char *path, char *err, size_t errlen)
{
	char dir[SOCKFILE_PATH_SIZE];
	char *slash;
	struct stat st;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (slash && slash != dir) {
		ret = make_dirs(what, dir, err, errlen);
		if (ret < 0)
			return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errno == ELOOP || errno == ENOTDIR)
			snprintf(err, errlen, "%s: socket directory %s is a symbolic link or not a "
				 "directory; refusing it", what, dir);
		else
			snprintf(err, errlen, "%s: opening socket directory %s: %s", what, dir, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: socket directory %s: %s", what, dir, strerror(errno));
		close(fd);
		return ret;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: socket directory %s is owned by uid %u, not %u; refusing it",
			 what, dir, (unsigned int)st.st_uid, (unsigned int)geteuid());
		close(fd);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: socket directory %s is writable by group or others "
			 "(mode %04o); refusing it", what, dir, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * A socket file left by a daemon that died is removed; one that a live
 * daemon still listens on is not ours to take.
 */
static int claim_path(const char *what, const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;
	int probe, ret;

	if (lstat(addr->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", what, addr->sun_path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: %s exists and is not a socket", what, addr->sun_path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: socket: %s", what, strerror(errno));
		return ret;
	}
	/* Non-blocking, so a live daemon with a full backlog cannot hang us (EAGAIN). */
	ret = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(probe);
		snprintf(err, errlen, "%s: another scx_ai_numad is listening on %s", what, addr->sun_path);
		return -EADDRINUSE;
	}
	ret = errno;
	close(probe);
	if (ret != ECONNREFUSED) {
		snprintf(err, errlen, "%s: probing %s: %s", what, addr->sun_path, strerror(ret));
		return -ret;
	}
	if (unlink(addr->sun_path) < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "%s: removing stale %s: %s", what, addr->sun_path, strerror(errno));
		return ret;
	}
	return 0;
}

int sockfile_listen(const char *what, const char *path, mode_t umask_bits, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *base;
	mode_t old_umask;
	int fd, dirfd, ret;

	if (!path || !*path) {
		snprintf(err, errlen, "%s: no socket path", what);
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "%s: socket path longer than %zu bytes: %s", what,
			 sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	dirfd = sockfile_open_parent(what, path, err, errlen);
	if (dirfd < 0)
		return dirfd;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ret = claim_path(what, &addr, err, errlen);
	if (ret < 0) {
		close(dirfd);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: socket: %s", what, strerror(errno));
		close(dirfd);
		return ret;
	}
	/* The socket file gets its final mode at creation: no window where it is wider. */
	old_umask = umask(umask_bits);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (ret < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: bind %s: %s", what, path, strerror(errno));
		close(fd);
		close(dirfd);
		return ret;
	}
	/*
	 * The group is set through the checked directory without following a
	 * symlink, and only nobody else could have put one there anyway.
	 */
	if (gid != (gid_t)-1 && fchownat(dirfd, base, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: setting the group of %s: %s", what, path, strerror(errno));
		goto fail;
	}
	if (listen(fd, 64) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: listen %s: %s", what, path, strerror(errno));
		goto fail;
	}
	close(dirfd);
	return fd;
fail:
	close(dirfd);
	close(fd);
	unlink(path);
	return ret;
}

bool sockfile_accept(const char *what, int lfd, int (*add)(void *arg, int fd), void *arg)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			add(arg, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("%s: accept: %s; pausing the socket until a client leaves", what, strerror(errno));
			return true;
		}
		log_warn("%s: accept: %s", what, strerror(errno));
		return false;
	}
	return false;
}
