/* SPDX-License-Identifier: MIT */
/*
 * Reading configuration files: the entry points, include and
 * readonly_include (a file or a folder of files), and the bounds that keep a
 * hostile or broken set of files from hanging or exhausting us — include
 * cycles (by device and inode of the files being read), include depth, number
 * of files, bytes per file and in total.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-internal.h"

/* Report a problem with a file: at the include token, or on the file itself. */
#define file_error(ps, at, path, ...)                                              \
	((at) ? parser_error((ps), (at)->file, (at)->line, (at)->col, __VA_ARGS__) \
	      : parser_error((ps), (path), 0, 0, __VA_ARGS__))

/* dir + "/" + name, or name alone when dir is empty or name absolute. NULL: no memory. */
static char *path_join(const char *dir, const char *name)
{
	char *s = NULL;

	if (name[0] == '/' || dir[0] == '\0')
		return strdup(name);
	size_t n = strlen(dir);
	if (asprintf(&s, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return s;
}

/* The folder part of path: "" for a bare name, "/" for a file in the root. */
static char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup("");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int report_errno(struct parser *ps, const struct vip_conf_loc *at, const char *path, int e)
{
	int r = at ? parser_error(ps, at->file, at->line, at->col, "cannot include '%s': %s", path,
				  strerror(e))
		   : parser_error(ps, path, 0, 0, "%s", strerror(e));
	return r == -ENOMEM ? r : -e;
}

/* The whole content of fd, at most max bytes. 0, -EFBIG or -errno. */
static int read_all(int fd, size_t size_hint, size_t max, char **ret, size_t *ret_len)
{
	size_t cap, len = 0;
	char *buf;

	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;
	cap = size_hint < max ? size_hint + 1 : max + 1;
	buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = negerrno();
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static size_t total_left(const struct parser *ps)
{
	return ps->total_size < ps->lim.max_total_size ? ps->lim.max_total_size - ps->total_size : 0;
}

static int check_file(struct parser *ps, const char *path, const struct stat *st,
		      const struct vip_conf_loc *at)
{
	for (size_t i = 0; i < ps->n_stack; i++)
		if (ps->stack[i].dev == st->st_dev && ps->stack[i].ino == st->st_ino)
			return file_error(ps, at, path, "include cycle: '%s' is already being read", path);
	if (at && ps->depth > ps->lim.max_include_depth)
		return file_error(ps, at, path, "includes nested too deeply (limit %u)",
				  ps->lim.max_include_depth);
	if (ps->n_read >= ps->lim.max_files)
		return file_error(ps, at, path, "too many configuration files (limit %zu)",
				  ps->lim.max_files);
	if ((uintmax_t)st->st_size > ps->lim.max_file_size)
		return file_error(ps, at, path, "'%s' is too large (%jd bytes, limit %zu)", path,
				  (intmax_t)st->st_size, ps->lim.max_file_size);
	if ((uintmax_t)st->st_size > total_left(ps))
		return file_error(ps, at, path, "configuration too large: over %zu bytes in total",
				  ps->lim.max_total_size);
	return 0;
}

static int push_file(struct parser *ps, const struct stat *st)
{
	struct file_id *ns = realloc(ps->stack, (ps->n_stack + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ps->stack = ns;
	ps->stack[ps->n_stack++] = (struct file_id){ .dev = st->st_dev, .ino = st->st_ino };
	return 0;
}

static int load_file(struct parser *ps, const char *path, int fd, const struct stat *st,
		     const struct vip_conf_loc *at, struct vip_conf_node *scope, unsigned nesting)
{
	_cleanup_free_ char *text = NULL, *dir = NULL;
	size_t len, max = ps->lim.max_file_size;
	int r;

	r = check_file(ps, path, st, at);
	if (r < 0)
		return r;
	if (total_left(ps) < max)
		max = total_left(ps);
	r = read_all(fd, (size_t)st->st_size, max, &text, &len);
	if (r == -EFBIG) {
		if (max < ps->lim.max_file_size)
			return file_error(ps, at, path, "configuration too large: over %zu bytes in total",
					  ps->lim.max_total_size);
		return file_error(ps, at, path, "'%s' is too large (limit %zu bytes)", path, max);
	}
	if (r < 0)
		return r == -ENOMEM ? r : report_errno(ps, at, path, -r);
	ps->total_size += len;
	ps->n_read++;

	const char *name = tree_intern_file(ps->tree, path);
	dir = path_dir(path);
	if (!name || !dir)
		return -ENOMEM;
	r = push_file(ps, st);
	if (r < 0)
		return r;
	ps->depth++;
	r = parse_text(ps, name, dir, text, len, scope, nesting);
	ps->depth--;
	ps->n_stack--;
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The name to open for path: path itself, or inside ps->root (a chroot) the
 * part after that prefix; NULL for a path outside it.
 */
static const char *inside_root(const struct parser *ps, const char *path)
{
	size_t n = ps->root ? strlen(ps->root) : 0;

	while (n > 0 && ps->root[n - 1] == '/')
		n--;
	if (n == 0)
		return path;
	if (strncmp(path, ps->root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path[n] ? path + n : "/";
}

static int load_path(struct parser *ps, const char *path, const struct vip_conf_loc *at,
		     struct vip_conf_node *scope, unsigned nesting);

/* The names in d that do not start with '.', sorted. */
static int list_dir(struct parser *ps, DIR *d, const char *path, const struct vip_conf_loc *at, char ***ret,
		    size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;

	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n >= ps->lim.max_files) {
			r = file_error(ps, at, path, "too many configuration files (limit %zu)",
				       ps->lim.max_files);
			break;
		}
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	if (r < 0) {
		while (n)
			free(names[--n]);
		free(names);
		return r;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	*ret = names;
	*ret_n = n;
	return 0;
}

static int load_dir(struct parser *ps, const char *path, int fd, const struct vip_conf_loc *at,
		    struct vip_conf_node *scope, unsigned nesting)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d = fdopendir(fd);
	int r = 0;

	if (!d) {
		r = -errno;
		close(fd);
		return report_errno(ps, at, path, -r);
	}
	r = list_dir(ps, d, path, at, &names, &n);
	closedir(d);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		_cleanup_free_ char *full = path_join(path, names[i]);
		struct stat st;

		if (!full) {
			r = -ENOMEM;
			break;
		}
		/* subfolders and special files are skipped; a dangling link is reported */
		if (inside_root(ps, full) && stat(inside_root(ps, full), &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		r = load_path(ps, full, at, scope, nesting);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r == -ENOMEM ? r : 0;
}

/* A file or, for an include or the first path, a folder. 0, -EINVAL or -errno. */
static int load_path(struct parser *ps, const char *path, const struct vip_conf_loc *at,
		     struct vip_conf_node *scope, unsigned nesting)
{
	_cleanup_close_ int fd = -1;
	const char *name = inside_root(ps, path);
	struct stat st;

	if (!name)
		return file_error(ps, at, path,
				  "'%s' is outside the chroot %s, where vipd reads its configuration", path,
				  ps->root);
	/* O_NONBLOCK: a FIFO named in an include must not block the open */
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return report_errno(ps, at, path, errno);
	if (S_ISDIR(st.st_mode))
		return load_dir(ps, path, steal_fd(fd), at, scope, nesting);
	if (!S_ISREG(st.st_mode))
		return file_error(ps, at, path, "'%s' is not a regular file or folder", path);
	return load_file(ps, path, fd, &st, at, scope, nesting);
}

int parser_include(struct parser *ps, const char *dir, const char *path, const struct vip_conf_loc *at,
		   struct vip_conf_node *scope, unsigned nesting)
{
	_cleanup_free_ char *full = path_join(dir, path);
	if (!full)
		return -ENOMEM;
	int r = load_path(ps, full, at, scope, nesting);
	return r == -ENOMEM ? r : 0;
}

static int parser_init(struct parser *ps, const struct vip_conf_limits *limits, struct vip_conf_diag *diag)
{
	*ps = (struct parser){ .lim = limits ? *limits : vip_conf_default_limits, .diag = diag };
	return tree_new(&ps->tree);
}

static int parser_finish(struct parser *ps, int r, struct vip_conf_tree **ret)
{
	free(ps->stack);
	if (r >= 0 && ps->failed)
		r = -EINVAL;
	if (r < 0) {
		vip_conf_tree_free(ps->tree);
		return r;
	}
	*ret = ps->tree;
	return 0;
}

int vip_conf_parse_file(const char *path, const struct vip_conf_limits *limits, struct vip_conf_tree **ret,
			struct vip_conf_diag *diag)
{
	return vip_conf_parse_file_root(path, NULL, limits, ret, diag);
}

int vip_conf_parse_file_root(const char *path, const char *root, const struct vip_conf_limits *limits,
			     struct vip_conf_tree **ret, struct vip_conf_diag *diag)
{
	struct parser ps;
	int r;

	assert(path && ret);
	r = parser_init(&ps, limits, diag);
	if (r < 0)
		return r;
	ps.root = root;
	r = load_path(&ps, path, NULL, ps.tree->root, 0);
	return parser_finish(&ps, r, ret);
}

int vip_conf_parse_string(const char *name, const char *text, size_t len, const char *base_dir,
			  const struct vip_conf_limits *limits, struct vip_conf_tree **ret,
			  struct vip_conf_diag *diag)
{
	struct parser ps;
	const char *file;
	int r;

	assert((text || !len) && ret);
	r = parser_init(&ps, limits, diag);
	if (r < 0)
		return r;
	file = tree_intern_file(ps.tree, name ? name : "<string>");
	if (!file)
		r = -ENOMEM;
	else if (len > ps.lim.max_file_size || len > ps.lim.max_total_size)
		r = parser_error(&ps, file, 0, 0, "input is too large (%zu bytes, limit %zu)", len,
				 len > ps.lim.max_file_size ? ps.lim.max_file_size : ps.lim.max_total_size);
	else {
		ps.total_size = len;
		ps.n_read = 1;
		ps.depth = 1;
		r = parse_text(&ps, file, base_dir, text ? text : "", len, ps.tree->root, 0);
	}
	return parser_finish(&ps, r, ret);
}
