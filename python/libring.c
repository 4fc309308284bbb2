/* SPDX-License-Identifier: MIT */
/*
 * libring.c - the CPython extension module "libring": rings, producers and
 * consumer groups from Python, with the payload bytes never copied on the
 * zero-copy paths (reserve() and the readers' message data).
 *
 * Object graph (no reference cycles, so nothing waits for the cyclic GC):
 *
 *   Message --> Buffer --> Reader --> Ring        (strong references)
 *   Message --> memoryview --> Buffer
 *   Reservation --> Buffer --> Ring
 *
 * A Buffer is the object that exports the bytes in the mapping (the buffer
 * protocol). It keeps its owner alive, so the mapping cannot go away under
 * a view. Readers and rings know their live Buffers, Readers and
 * Reservations through borrowed pointers in intrusive lists, which each
 * object takes itself off when it is freed.
 *
 * When a reader moves on (the next message, the next poll, release, close),
 * the memoryviews it handed out are released (using them raises ValueError)
 * and its Buffers are marked invalid. A view that is still held elsewhere
 * (a slice of msg.data, a NumPy array over it) keeps the Buffer exported;
 * then the reader refuses to move on with BufferError, as mmap.close() does,
 * rather than let the room be reused under a live view.
 *
 * Waiting: every call that can wait first tries without waiting, holding the
 * GIL; only when it would wait does it release the GIL and wait in slices of
 * at most 50 ms (with RING_INTR, so a signal ends a sleep at once), calling
 * PyErr_CheckSignals() between slices: Ctrl-C raises KeyboardInterrupt
 * within a slice.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

/* A wait is cut into slices of this length (ns) to look at signals. */
#define SLICE_NS (50 * 1000 * 1000L)
/* Messages a reader peeks at once. */
#define BATCH_MAX 256
/* ring_send_batch() takes at most this many messages per call. */
#define SEND_BATCH_MAX 256
/* A return value meaning "a Python exception is set". */
#define ERR_PY INT_MIN

typedef struct RingObject RingObject;
typedef struct ReaderObject ReaderObject;
typedef struct BufferObject BufferObject;
typedef struct MessageObject MessageObject;
typedef struct ReservationObject ReservationObject;

struct RingObject {
    PyObject_HEAD
    struct ring *r;
    PyObject *path;             /* str or bytes, as given */
    char mode;                  /* 'w', 'r' or 'c' */
    uint32_t full_policy;       /* the ring's default */
    int active;                 /* calls running without the GIL */
    ReaderObject *readers;      /* open readers (borrowed) */
    ReservationObject *claims;  /* open reservations (borrowed) */
};

struct ReaderObject {
    PyObject_HEAD
    RingObject *ring;
    struct ring_reader *rd;
    PyObject *group;            /* str */
    int busy;                   /* a call runs without the GIL */
    unsigned nbatch;            /* messages peeked */
    unsigned next;              /* of which handed out */
    BufferObject *live;         /* Buffers of handed-out messages */
    ReaderObject *next_reader, *prev_reader;
    struct ring_msg batch[BATCH_MAX];
};

struct BufferObject {
    PyObject_HEAD
    PyObject *owner;            /* Reader or Ring: keeps the mapping */
    void *ptr;
    Py_ssize_t len;
    int readonly;
    int valid;
    Py_ssize_t exports;
    MessageObject *msg;         /* its Message, if alive (borrowed) */
    ReaderObject *reader;       /* on whose list it is, or NULL */
    BufferObject *next_buf, *prev_buf;
};

struct MessageObject {
    PyObject_HEAD
    BufferObject *buf;
    PyObject *view;             /* cached memoryview of buf, or NULL */
    uint32_t type;
    uint32_t len;
    uint64_t pos;
    uint32_t pid;
    uint32_t slots;
    uint64_t timestamp;
};

enum { CLAIM_NEW, CLAIM_OPEN, CLAIM_DONE };

struct ReservationObject {
    PyObject_HEAD
    RingObject *ring;
    BufferObject *buf;
    PyObject *view;
    size_t len;
    uint32_t type;
    unsigned flags;             /* policy */
    double timeout;             /* < 0: none */
    int state;
    int listed;                 /* on ring->claims */
    struct ring_claim claim;
    ReservationObject *next_claim, *prev_claim;
};

static PyTypeObject Ring_Type;
static PyTypeObject Reader_Type;
static PyTypeObject Buffer_Type;
static PyTypeObject Message_Type;
static PyTypeObject Reservation_Type;
static PyObject *RingStats_Type;  /* collections.namedtuple classes */
static PyObject *GroupStats_Type;
static PyObject *str_release; /* "release", interned */

/* ---- errors ------------------------------------------------------------ */

/*
 * Raise the OSError subclass that errno @err maps to (FileNotFoundError,
 * BlockingIOError, TimeoutError, ChildProcessError, ...) with libring's own
 * text; @filename may be NULL. Returns NULL.
 */
static PyObject *
ring_error(int err, PyObject *filename)
{
    PyObject *args;

    if (err < 0) {
        err = -err;
    }
    if (filename != NULL) {
        args = Py_BuildValue("(isO)", err, ring_strerror(err), filename);
    }
    else {
        args = Py_BuildValue("(is)", err, ring_strerror(err));
    }
    if (args != NULL) {
        PyObject *exc = PyObject_Call(PyExc_OSError, args, NULL);

        Py_DECREF(args);
        if (exc != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
    }
    return NULL;
}

/* Like ring_error(), and record how many messages went before it. */
static PyObject *
ring_error_sent(int err, Py_ssize_t sent)
{
    PyObject *type, *value, *tb, *n;

    ring_error(err, NULL);
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    n = PyLong_FromSsize_t(sent);
    if (n != NULL && value != NULL) {
        if (PyObject_SetAttrString(value, "sent", n) < 0) {
            PyErr_Clear();
        }
        if (PyErr_GivenExceptionMatches(value, PyExc_BlockingIOError)
            && PyObject_SetAttrString(value, "characters_written", n) < 0) {
            PyErr_Clear();
        }
    }
    Py_XDECREF(n);
    PyErr_Restore(type, value, tb);
    return NULL;
}

static int
ring_closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "operation on a closed ring");
    return -1;
}

static int
check_ring(RingObject *self)
{
    if (self->r == NULL) {
        return ring_closed_error();
    }
    return 0;
}

/* ---- time and waiting -------------------------------------------------- */

static void
now_plus(struct timespec *ts, double seconds)
{
    long long ns;

    clock_gettime(CLOCK_MONOTONIC, ts);
    if (seconds > 1e9) {
        seconds = 1e9;
    }
    ns = (long long)(seconds * 1e9);
    ts->tv_sec += ns / 1000000000LL;
    ts->tv_nsec += ns % 1000000000LL;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec
           || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Parse a timeout: None is -1 (no limit), else seconds >= 0. */
static int
parse_timeout(PyObject *obj, double *out)
{
    double t;

    if (obj == NULL || obj == Py_None) {
        *out = -1.0;
        return 0;
    }
    t = PyFloat_AsDouble(obj);
    if (t == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (!(t >= 0.0)) {
        PyErr_SetString(PyExc_ValueError, "timeout must be >= 0 or None");
        return -1;
    }
    *out = t;
    return 0;
}

/* One attempt of a waiting call: returns what the ring_* call returned. */
typedef int (*wait_fn)(void *ctx, unsigned flags,
                       const struct timespec *deadline);

/*
 * Run @fn with the GIL released until it returns something other than
 * -ETIMEDOUT or -EINTR, or @timeout seconds (< 0: none) have passed
 * (-ETIMEDOUT). Each attempt is given a deadline at most 50 ms away, and
 * pending signals are handled between attempts: returns ERR_PY when a signal
 * handler raised. @active counts the calls running without the GIL.
 */
static int
run_waiting(wait_fn fn, void *ctx, unsigned flags, double timeout,
            int *active)
{
    struct timespec deadline, slice;
    int rc;

    if (timeout >= 0.0) {
        now_plus(&deadline, timeout);
    }
    (*active)++;
    for (;;) {
        now_plus(&slice, SLICE_NS / 1e9);
        if (timeout >= 0.0 && ts_before(&deadline, &slice)) {
            slice = deadline;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = fn(ctx, flags | RING_INTR, &slice);
        Py_END_ALLOW_THREADS
        if (rc != -ETIMEDOUT && rc != -EINTR) {
            break;
        }
        if (PyErr_CheckSignals() < 0) {
            rc = ERR_PY;
            break;
        }
        if (timeout >= 0.0) {
            struct timespec now;

            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!ts_before(&now, &deadline)) {
                rc = -ETIMEDOUT;
                break;
            }
        }
    }
    (*active)--;
    return rc;
}

/* ---- argument helpers -------------------------------------------------- */

/* "wait", "fail", "drop" or None (the ring's default). */
static int
parse_policy(PyObject *obj, unsigned *out)
{
    const char *s;

    if (obj == NULL || obj == Py_None) {
        *out = RING_FULL_DEFAULT;
        return 0;
    }
    s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (s != NULL && strcmp(s, "wait") == 0) {
        *out = RING_FULL_WAIT;
    }
    else if (s != NULL && strcmp(s, "fail") == 0) {
        *out = RING_FULL_FAIL;
    }
    else if (s != NULL && strcmp(s, "drop") == 0) {
        *out = RING_FULL_DROP;
    }
    else {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError,
                            "when_full must be 'wait', 'fail', 'drop' "
                            "or None");
        }
        return -1;
    }
    return 0;
}

static const char *
policy_name(uint32_t p)
{
    switch (p) {
    case RING_FULL_FAIL:
        return "fail";
    case RING_FULL_DROP:
        return "drop";
    default:
        return "wait";
    }
}

/* "oldest" or "newest". */
static int
parse_from(PyObject *obj, unsigned *out)
{
    const char *s;

    if (obj == NULL || obj == Py_None) {
        *out = RING_FROM_OLDEST;
        return 0;
    }
    s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (s != NULL && strcmp(s, "oldest") == 0) {
        *out = RING_FROM_OLDEST;
    }
    else if (s != NULL && strcmp(s, "newest") == 0) {
        *out = RING_FROM_NEWEST;
    }
    else {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError,
                            "from_ must be 'oldest' or 'newest'");
        }
        return -1;
    }
    return 0;
}

/* Add the shared-group flags of shared= and members= to *flags. */
static int
parse_shared(int shared, int members, unsigned *flags)
{
    if (members < 0 || members > RING_MEMBERS_MAX) {
        PyErr_Format(PyExc_ValueError, "members must be 0..%d",
                     RING_MEMBERS_MAX);
        return -1;
    }
    if (members && !shared) {
        PyErr_SetString(PyExc_ValueError, "members needs shared=True");
        return -1;
    }
    if (shared) {
        *flags |= RING_GROUP_SHARED | RING_GROUP_MEMBERS(members);
    }
    return 0;
}

static int
parse_u32(PyObject *obj, const char *what, uint32_t *out)
{
    unsigned long v;

    if (obj == NULL || obj == Py_None) {
        return 0;
    }
    v = PyLong_AsUnsignedLong(obj);
    if (v == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (v > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s is too large", what);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A group name as UTF-8, 1..RING_GROUP_NAME_MAX bytes. */
static const char *
group_name(PyObject *name)
{
    Py_ssize_t n;
    const char *s;

    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "a group name must be a str");
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(name, &n);
    if (s == NULL) {
        return NULL;
    }
    if (n < 1 || n > RING_GROUP_NAME_MAX || strlen(s) != (size_t)n) {
        PyErr_Format(PyExc_ValueError,
                     "a group name is 1 to %d bytes without NUL",
                     RING_GROUP_NAME_MAX);
        return NULL;
    }
    return s;
}

/*
 * Parse vectorcall arguments by name: @names lists the parameters, the
 * first @npos of which may be positional; missing ones stay NULL. The
 * first @nreq are required.
 */
static int
parse_fast(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           const char *const *names, int nnames, int npos, int nreq,
           PyObject **out, const char *fname)
{
    Py_ssize_t i;

    for (i = 0; i < nnames; i++) {
        out[i] = NULL;
    }
    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes at most %d positional arguments",
                     fname, npos);
        return -1;
    }
    for (i = 0; i < nargs; i++) {
        out[i] = args[i];
    }
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);

        for (i = 0; i < nkw; i++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, i);
            int j;

            for (j = 0; j < nnames; j++) {
                if (PyUnicode_CompareWithASCIIString(key, names[j]) == 0) {
                    break;
                }
            }
            if (j == nnames) {
                PyErr_Format(PyExc_TypeError,
                             "%s() got an unexpected keyword argument '%U'",
                             fname, key);
                return -1;
            }
            if (out[j] != NULL) {
                PyErr_Format(PyExc_TypeError,
                             "%s() got multiple values for argument '%s'",
                             fname, names[j]);
                return -1;
            }
            out[j] = args[nargs + i];
        }
    }
    for (i = 0; i < nreq; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() missing required argument '%s'",
                         fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/* ---- Buffer: the bytes in the mapping ---------------------------------- */

static BufferObject *
buffer_new(PyObject *owner, void *ptr, Py_ssize_t len, int readonly)
{
    BufferObject *b = PyObject_New(BufferObject, &Buffer_Type);

    if (b == NULL) {
        return NULL;
    }
    Py_INCREF(owner);
    b->owner = owner;
    b->ptr = ptr;
    b->len = len;
    b->readonly = readonly;
    b->valid = 1;
    b->exports = 0;
    b->msg = NULL;
    b->reader = NULL;
    b->next_buf = b->prev_buf = NULL;
    return b;
}

static void
buffer_unlink(BufferObject *b)
{
    ReaderObject *rd = b->reader;

    if (rd == NULL) {
        return;
    }
    if (b->prev_buf != NULL) {
        b->prev_buf->next_buf = b->next_buf;
    }
    else {
        rd->live = b->next_buf;
    }
    if (b->next_buf != NULL) {
        b->next_buf->prev_buf = b->prev_buf;
    }
    b->reader = NULL;
    b->next_buf = b->prev_buf = NULL;
}

static void
Buffer_dealloc(BufferObject *b)
{
    buffer_unlink(b);
    Py_DECREF(b->owner);
    PyObject_Free(b);
}

static int
Buffer_getbuffer(BufferObject *b, Py_buffer *view, int flags)
{
    if (!b->valid) {
        PyErr_SetString(PyExc_ValueError,
                        "the message was released or the reservation "
                        "ended: its bytes are no longer yours");
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)b, b->ptr, b->len, b->readonly,
                          flags) < 0) {
        return -1;
    }
    b->exports++;
    return 0;
}

static void
Buffer_releasebuffer(BufferObject *b, Py_buffer *view)
{
    b->exports--;
}

static PyBufferProcs Buffer_as_buffer = {
    (getbufferproc)Buffer_getbuffer,
    (releasebufferproc)Buffer_releasebuffer,
};

PyDoc_STRVAR(Buffer_doc,
"Bytes of a message or a reservation in the ring's mapping (the object\n"
"behind Message.data and the memoryview of reserve()). Not created\n"
"directly.");

static PyTypeObject Buffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring._Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = (destructor)Buffer_dealloc,
    .tp_as_buffer = &Buffer_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Buffer_doc,
};

/* Release a cached memoryview (memoryview.release()). 0 if it went. */
static int
release_view(PyObject **view)
{
    PyObject *res;

    if (*view == NULL) {
        return 0;
    }
    if (Py_REFCNT(*view) == 1) {
        /* Nobody else can reach it: freeing it releases it. */
        Py_CLEAR(*view);
        return 0;
    }
    res = PyObject_CallMethodNoArgs(*view, str_release);
    if (res == NULL) {
        /* BufferError: the view is exported itself (e.g. to NumPy). */
        PyErr_Clear();
        return -1;
    }
    Py_DECREF(res);
    Py_CLEAR(*view);
    return 0;
}

/* ---- Message ----------------------------------------------------------- */

static void
Message_dealloc(MessageObject *m)
{
    if (m->buf->msg == m) {
        m->buf->msg = NULL;
    }
    Py_XDECREF(m->view);
    Py_DECREF(m->buf);
    PyObject_Free(m);
}

static PyObject *
Message_get_data(MessageObject *m, void *closure)
{
    if (!m->buf->valid) {
        PyErr_SetString(PyExc_ValueError,
                        "message released: its data is valid only until "
                        "the next message is taken (copy it with "
                        "bytes(msg.data) to keep it)");
        return NULL;
    }
    if (m->view == NULL) {
        m->view = PyMemoryView_FromObject((PyObject *)m->buf);
        if (m->view == NULL) {
            return NULL;
        }
    }
    Py_INCREF(m->view);
    return m->view;
}

static PyObject *
Message_get_valid(MessageObject *m, void *closure)
{
    return PyBool_FromLong(m->buf->valid);
}

static Py_ssize_t
Message_length(MessageObject *m)
{
    return m->len;
}

static int
Message_getbuffer(MessageObject *m, Py_buffer *view, int flags)
{
    return Buffer_getbuffer(m->buf, view, flags);
}

static PyObject *
Message_repr(MessageObject *m)
{
    return PyUnicode_FromFormat("<libring.Message pos=%llu type=%u len=%u%s>",
                                (unsigned long long)m->pos,
                                (unsigned)m->type, (unsigned)m->len,
                                m->buf->valid ? "" : " released");
}

static PyBufferProcs Message_as_buffer = {
    (getbufferproc)Message_getbuffer,
    NULL,
};

static PySequenceMethods Message_as_sequence = {
    .sq_length = (lenfunc)Message_length,
};

static PyMemberDef Message_members[] = {
    {"type", T_UINT, offsetof(MessageObject, type), READONLY,
     "the producer's type tag"},
    {"pos", T_ULONGLONG, offsetof(MessageObject, pos), READONLY,
     "position of the message in the ring (slot sequence number)"},
    {"pid", T_UINT, offsetof(MessageObject, pid), READONLY,
     "process id of the producer"},
    {"slots", T_UINT, offsetof(MessageObject, slots), READONLY,
     "slots the message occupies"},
    {"timestamp", T_ULONGLONG, offsetof(MessageObject, timestamp), READONLY,
     "CLOCK_REALTIME ns of the commit if the ring records it, else 0"},
    {NULL}
};

static PyGetSetDef Message_getset[] = {
    {"data", (getter)Message_get_data, NULL,
     "The payload: a read-only memoryview into the ring's mapping (no\n"
     "copy). Valid until the reader takes the next message (or batch),\n"
     "is released or closed; after that the view is released and using\n"
     "it raises ValueError. Keep bytes(msg.data) to hold on to it.", NULL},
    {"valid", (getter)Message_get_valid, NULL,
     "True until the reader moved past this message.", NULL},
    {NULL}
};

PyDoc_STRVAR(Message_doc,
"A message as a reader sees it, in place in the ring.\n\n"
"len(msg) is the payload's length; msg.data is a read-only memoryview of\n"
"it, valid until the next message is taken. The message itself supports\n"
"the buffer protocol too: bytes(msg) copies the payload.");

static PyTypeObject Message_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring.Message",
    .tp_basicsize = sizeof(MessageObject),
    .tp_dealloc = (destructor)Message_dealloc,
    .tp_repr = (reprfunc)Message_repr,
    .tp_as_sequence = &Message_as_sequence,
    .tp_as_buffer = &Message_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Message_doc,
    .tp_members = Message_members,
    .tp_getset = Message_getset,
};

/* ---- Reader ------------------------------------------------------------ */

static int
check_reader(ReaderObject *self)
{
    if (self->rd == NULL) {
        PyErr_SetString(PyExc_ValueError, "operation on a closed reader");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the reader is in use by another thread");
        return -1;
    }
    return 0;
}

/*
 * Let go of the views of the messages handed out: release the cached
 * memoryviews and mark the Buffers invalid. If a Buffer is still exported
 * (a view of it is held elsewhere), nothing is invalidated and BufferError
 * is raised: the reader must not move on while its room can be read.
 */
static int
reader_retire(ReaderObject *self)
{
    BufferObject *b;

    for (b = self->live; b != NULL; b = b->next_buf) {
        if (b->msg != NULL) {
            release_view(&b->msg->view);
        }
    }
    for (b = self->live; b != NULL; b = b->next_buf) {
        if (b->exports > 0) {
            PyErr_Format(PyExc_BufferError,
                         "a view of the message at position %llu is still "
                         "held (a slice of msg.data or an object made on "
                         "it): drop it, or copy the bytes, before the "
                         "reader moves on",
                         b->msg ? (unsigned long long)b->msg->pos : 0ULL);
            return -1;
        }
    }
    while ((b = self->live) != NULL) {
        b->valid = 0;
        buffer_unlink(b);
    }
    return 0;
}

/* Release the messages handed out so far; forget the rest of the batch. */
static int
reader_release_taken(ReaderObject *self)
{
    int rc = 0;

    if (self->next > 0) {
        rc = ring_release_n(self->rd, self->next);
    }
    self->nbatch = self->next = 0;
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    return 0;
}

static int
do_peek(void *ctx, unsigned flags, const struct timespec *deadline)
{
    ReaderObject *self = ctx;

    return ring_peek_batch(self->rd, self->batch, self->nbatch, flags,
                           deadline);
}

/*
 * Peek up to @max messages into the batch, waiting up to @timeout seconds
 * (< 0: no limit) for the first. Returns the count, 0 when none came in
 * time, -1 with an exception set.
 */
static int
reader_fill(ReaderObject *self, unsigned max, double timeout)
{
    int rc;

    self->nbatch = max;       /* do_peek's argument */
    rc = ring_peek_batch(self->rd, self->batch, max, RING_NONBLOCK, NULL);
    if (rc == -EAGAIN && timeout != 0.0) {
        self->busy = 1;
        rc = run_waiting(do_peek, self, 0, timeout, &self->ring->active);
        self->busy = 0;
    }
    self->nbatch = 0;
    self->next = 0;
    if (rc == ERR_PY) {
        return -1;
    }
    if (rc == -EAGAIN || rc == -ETIMEDOUT) {
        return 0;
    }
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    self->nbatch = (unsigned)rc;
    return rc;
}

/*
 * A Message describing @rm whose data are the @rm->len bytes at @data,
 * kept alive by @owner (a Reader: the mapping; bytes: a copy).
 */
static MessageObject *
message_new(PyObject *owner, const struct ring_msg *rm, const void *data)
{
    MessageObject *m;
    BufferObject *b;

    b = buffer_new(owner, (void *)data, rm->len, 1);
    if (b == NULL) {
        return NULL;
    }
    m = PyObject_New(MessageObject, &Message_Type);
    if (m == NULL) {
        Py_DECREF(b);
        return NULL;
    }
    m->buf = b;
    m->view = NULL;
    m->type = rm->type;
    m->len = rm->len;
    m->pos = rm->pos;
    m->pid = rm->pid;
    m->slots = rm->slots;
    m->timestamp = rm->timestamp;
    b->msg = m;
    return m;
}

/* A Message for batch entry @i, on the reader's live list. */
static PyObject *
reader_message(ReaderObject *self, unsigned i)
{
    const struct ring_msg *rm = &self->batch[i];
    MessageObject *m = message_new((PyObject *)self, rm, rm->data);
    BufferObject *b;

    if (m == NULL) {
        return NULL;
    }
    b = m->buf;
    b->reader = self;
    b->next_buf = self->live;
    if (self->live != NULL) {
        self->live->prev_buf = b;
    }
    self->live = b;
    return (PyObject *)m;
}

/*
 * The next message, waiting up to @timeout seconds; NULL without an
 * exception when none came in time.
 */
static PyObject *
reader_take(ReaderObject *self, double timeout)
{
    if (check_reader(self) < 0 || reader_retire(self) < 0) {
        return NULL;
    }
    if (self->next == self->nbatch) {
        int n;

        if (reader_release_taken(self) < 0) {
            return NULL;
        }
        n = reader_fill(self, BATCH_MAX, timeout);
        if (n <= 0) {
            return NULL;
        }
    }
    return reader_message(self, self->next++);
}

static PyObject *
Reader_iternext(ReaderObject *self)
{
    return reader_take(self, -1.0);
}

PyDoc_STRVAR(Reader_take_doc,
"take($self, /, timeout=None)\n--\n\n"
"The next message of the group, or None if none came within timeout\n"
"seconds (None: wait without limit; 0: do not wait). The message taken\n"
"before it is released from view (see Message.data); the group's cursor\n"
"moves once per batch of peeked messages, after they were handed out.");

/*
 * take(timeout=None) of a Reader or an Observer: @take_fn(@self, timeout)
 * gives a message, or NULL without an exception for none in time (None).
 */
static PyObject *
take_method(PyObject *self, PyObject *args, PyObject *kw,
            PyObject *(*take_fn)(PyObject *, double))
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *tobj = Py_None, *m;
    double timeout;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:take", kwlist, &tobj)
        || parse_timeout(tobj, &timeout) < 0) {
        return NULL;
    }
    m = take_fn(self, timeout);
    if (m == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return m;
}

static PyObject *
reader_take_any(PyObject *self, double timeout)
{
    return reader_take((ReaderObject *)self, timeout);
}

static PyObject *
Reader_take(ReaderObject *self, PyObject *args, PyObject *kw)
{
    return take_method((PyObject *)self, args, kw, reader_take_any);
}

PyDoc_STRVAR(Reader_poll_doc,
"poll($self, /, max=256, timeout=None)\n--\n\n"
"A list of up to max (1..256) messages in place, waiting up to timeout\n"
"seconds for the first (None: no limit; 0: do not wait); [] when none\n"
"came. The messages of the previous batch (or of iteration) are released\n"
"first: they stay valid until this call. At least once: a process that\n"
"dies before the next call leaves the batch to the group's next reader.");

static PyObject *
Reader_poll(ReaderObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"max", "timeout", NULL};
    PyObject *tobj = Py_None, *list;
    int max = BATCH_MAX, n, i;
    double timeout;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iO:poll", kwlist, &max,
                                     &tobj)
        || parse_timeout(tobj, &timeout) < 0) {
        return NULL;
    }
    if (max < 1 || max > BATCH_MAX) {
        PyErr_Format(PyExc_ValueError, "max must be 1..%d", BATCH_MAX);
        return NULL;
    }
    if (check_reader(self) < 0 || reader_retire(self) < 0
        || reader_release_taken(self) < 0) {
        return NULL;
    }
    n = reader_fill(self, (unsigned)max, timeout);
    if (n < 0) {
        return NULL;
    }
    list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        PyObject *m = reader_message(self, (unsigned)i);

        if (m == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, m);
    }
    self->next = (unsigned)n;
    return list;
}

PyDoc_STRVAR(Reader_messages_doc,
"messages($self, /, timeout=None)\n--\n\n"
"An iterator over the group's messages that ends when none came within\n"
"timeout seconds (0: when the group is drained). Iterating the reader\n"
"itself waits without end.");

typedef struct {
    PyObject_HEAD
    ReaderObject *reader;
    double timeout;
} MessagesObject;

static void
Messages_dealloc(MessagesObject *it)
{
    Py_DECREF(it->reader);
    PyObject_Free(it);
}

static PyObject *
Messages_next(MessagesObject *it)
{
    return reader_take(it->reader, it->timeout);
}

static PyTypeObject Messages_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring._Messages",
    .tp_basicsize = sizeof(MessagesObject),
    .tp_dealloc = (destructor)Messages_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Messages_next,
};

static PyObject *
Reader_messages(ReaderObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *tobj = Py_None;
    MessagesObject *it;
    double timeout;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:messages", kwlist, &tobj)
        || parse_timeout(tobj, &timeout) < 0) {
        return NULL;
    }
    it = PyObject_New(MessagesObject, &Messages_Type);
    if (it == NULL) {
        return NULL;
    }
    Py_INCREF(self);
    it->reader = self;
    it->timeout = timeout;
    return (PyObject *)it;
}

PyDoc_STRVAR(Reader_release_doc,
"release($self, /)\n--\n\n"
"Release every message handed out so far (they become invalid) and\n"
"publish the group's cursor now, instead of at the next batch.");

static PyObject *
Reader_release(ReaderObject *self, PyObject *unused)
{
    if (check_reader(self) < 0 || reader_retire(self) < 0
        || reader_release_taken(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Reader_skip_doc,
"skip($self, /)\n--\n\n"
"Move past a corrupt message that taking reported (OSError EBADMSG).\n"
"Returns the number of slots skipped.");

static PyObject *
Reader_skip(ReaderObject *self, PyObject *unused)
{
    int rc;

    if (check_reader(self) < 0 || reader_retire(self) < 0
        || reader_release_taken(self) < 0) {
        return NULL;
    }
    rc = ring_reader_skip(self->rd);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    return PyLong_FromLong(rc);
}

static void
reader_unlist(ReaderObject *self)
{
    RingObject *ring = self->ring;

    if (self->prev_reader != NULL) {
        self->prev_reader->next_reader = self->next_reader;
    }
    else if (ring->readers == self) {
        ring->readers = self->next_reader;
    }
    if (self->next_reader != NULL) {
        self->next_reader->prev_reader = self->prev_reader;
    }
    self->next_reader = self->prev_reader = NULL;
}

/* Close the C reader; with @release, release what was handed out first. */
static int
reader_close(ReaderObject *self, int release)
{
    int rc = 0;

    if (self->rd == NULL) {
        return 0;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the reader is in use by another thread");
        return -1;
    }
    if (reader_retire(self) < 0) {
        return -1;
    }
    if (release && self->next > 0) {
        rc = ring_release_n(self->rd, self->next);
    }
    self->nbatch = self->next = 0;
    ring_reader_close(self->rd);
    self->rd = NULL;
    reader_unlist(self);
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(Reader_close_doc,
"close($self, /)\n--\n\n"
"Release the messages handed out and give up the group (another process\n"
"may read it now). Closing a closed reader does nothing.");

static PyObject *
Reader_close(ReaderObject *self, PyObject *unused)
{
    if (reader_close(self, 1) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Reader_enter(ReaderObject *self, PyObject *unused)
{
    if (check_reader(self) < 0) {
        return NULL;
    }
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
Reader_exit(ReaderObject *self, PyObject *args)
{
    PyObject *exc = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0)
                                           : Py_None;

    /* An exception leaves the messages handed out to be read again. */
    if (reader_close(self, exc == Py_None) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;
}

static PyObject *
make_group_stats(const struct ring_group_stats *gs);

PyDoc_STRVAR(Reader_stats_doc,
"stats($self, /)\n--\n\n"
"The group's counters as a GroupStats named tuple.");

static PyObject *
Reader_stats(ReaderObject *self, PyObject *unused)
{
    struct ring_group_stats gs;
    int rc;

    if (check_reader(self) < 0) {
        return NULL;
    }
    rc = ring_group_stats(self->ring->r, PyUnicode_AsUTF8(self->group), &gs);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    return make_group_stats(&gs);
}

static PyObject *
Reader_get_position(ReaderObject *self, void *closure)
{
    if (check_reader(self) < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(ring_reader_position(self->rd));
}

static PyObject *
Reader_get_closed(ReaderObject *self, void *closure)
{
    return PyBool_FromLong(self->rd == NULL);
}

static void
Reader_dealloc(ReaderObject *self)
{
    /* Nothing released: what was handed out is read again (at least
     * once). No Buffer is alive here: each keeps its reader. */
    if (self->rd != NULL) {
        ring_reader_close(self->rd);
        self->rd = NULL;
        reader_unlist(self);
    }
    Py_DECREF(self->group);
    Py_DECREF(self->ring);
    PyObject_Free(self);
}

static PyObject *
Reader_repr(ReaderObject *self)
{
    return PyUnicode_FromFormat("<libring.Reader group=%R%s>", self->group,
                                self->rd == NULL ? " closed" : "");
}

static PyMethodDef Reader_methods[] = {
    {"take", (PyCFunction)(void (*)(void))Reader_take,
     METH_VARARGS | METH_KEYWORDS, Reader_take_doc},
    {"poll", (PyCFunction)(void (*)(void))Reader_poll,
     METH_VARARGS | METH_KEYWORDS, Reader_poll_doc},
    {"messages", (PyCFunction)(void (*)(void))Reader_messages,
     METH_VARARGS | METH_KEYWORDS, Reader_messages_doc},
    {"release", (PyCFunction)Reader_release, METH_NOARGS,
     Reader_release_doc},
    {"skip", (PyCFunction)Reader_skip, METH_NOARGS, Reader_skip_doc},
    {"stats", (PyCFunction)Reader_stats, METH_NOARGS, Reader_stats_doc},
    {"close", (PyCFunction)Reader_close, METH_NOARGS, Reader_close_doc},
    {"__enter__", (PyCFunction)Reader_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the reader."},
    {"__exit__", (PyCFunction)Reader_exit, METH_VARARGS,
     "__exit__($self, *exc_info, /)\n--\n\n"
     "Close the reader: after a normal end with what it handed out\n"
     "released, after an exception without releasing it."},
    {NULL}
};

static PyMemberDef Reader_members[] = {
    {"group", T_OBJECT, offsetof(ReaderObject, group), READONLY,
     "the group's name"},
    {NULL}
};

static PyGetSetDef Reader_getset[] = {
    {"position", (getter)Reader_get_position, NULL,
     "the group's cursor as this reader sees it", NULL},
    {"closed", (getter)Reader_get_closed, NULL, "True once closed", NULL},
    {NULL}
};

PyDoc_STRVAR(Reader_doc,
"The reader of one consumer group (Ring.reader()).\n\n"
"Iterating yields Message objects, waiting for new ones without end\n"
"(Ctrl-C interrupts); messages(timeout) stops when none came in time,\n"
"take(timeout) returns one, poll(max, timeout) a batch. A message's data\n"
"is valid until the next one is taken. The group's cursor moves after\n"
"the messages were handed out, once per batch: a reader that dies leaves\n"
"what it had not finished to the next one (at least once).\n\n"
"As a context manager, the block's normal end releases every message\n"
"handed out and closes the reader; an exception releases none of those\n"
"not yet released, so they are read again.");

static PyTypeObject Reader_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_repr = (reprfunc)Reader_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Reader_doc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Reader_iternext,
    .tp_methods = Reader_methods,
    .tp_members = Reader_members,
    .tp_getset = Reader_getset,
};

/* ---- Reservation ------------------------------------------------------- */

static void
claim_unlist(ReservationObject *self)
{
    RingObject *ring = self->ring;

    if (!self->listed) {
        return;
    }
    if (self->prev_claim != NULL) {
        self->prev_claim->next_claim = self->next_claim;
    }
    else {
        ring->claims = self->next_claim;
    }
    if (self->next_claim != NULL) {
        self->next_claim->prev_claim = self->prev_claim;
    }
    self->next_claim = self->prev_claim = NULL;
    self->listed = 0;
}

struct reserve_ctx {
    ReservationObject *res;
};

static int
do_reserve(void *ctx, unsigned flags, const struct timespec *deadline)
{
    ReservationObject *res = ((struct reserve_ctx *)ctx)->res;

    return ring_reserve(res->ring->r, res->len, res->type, flags, deadline,
                        &res->claim);
}

static PyObject *
Reservation_enter(ReservationObject *self, PyObject *unused)
{
    RingObject *ring = self->ring;
    struct reserve_ctx ctx = {self};
    unsigned policy = self->flags;
    int rc;

    if (self->state != CLAIM_NEW) {
        PyErr_SetString(PyExc_RuntimeError,
                        "a reservation is entered only once");
        return NULL;
    }
    if (check_ring(ring) < 0) {
        return NULL;
    }
    if (policy == RING_FULL_DEFAULT) {
        policy = ring->full_policy;
    }
    rc = ring_reserve(ring->r, self->len, self->type,
                      policy == RING_FULL_WAIT ? RING_FULL_FAIL : policy,
                      NULL, &self->claim);
    if (rc == -EAGAIN && policy == RING_FULL_WAIT) {
        rc = run_waiting(do_reserve, &ctx, RING_FULL_WAIT, self->timeout,
                         &ring->active);
        if (rc == ERR_PY) {
            return NULL;
        }
    }
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    self->buf = buffer_new((PyObject *)ring, self->claim.data,
                           (Py_ssize_t)self->len, 0);
    if (self->buf == NULL) {
        ring_abort(ring->r, &self->claim);
        return NULL;
    }
    self->view = PyMemoryView_FromObject((PyObject *)self->buf);
    if (self->view == NULL) {
        ring_abort(ring->r, &self->claim);
        self->buf->valid = 0;
        return NULL;
    }
    self->state = CLAIM_OPEN;
    self->next_claim = ring->claims;
    self->prev_claim = NULL;
    if (ring->claims != NULL) {
        ring->claims->prev_claim = self;
    }
    ring->claims = self;
    self->listed = 1;
    Py_INCREF(self->view);
    return self->view;
}

/* Commit (@commit) or abort the open claim. */
static int
reservation_finish(ReservationObject *self, int commit)
{
    struct ring *r = self->ring->r;
    int held, rc;

    if (self->state != CLAIM_OPEN) {
        return 0;
    }
    held = release_view(&self->view) < 0 || self->buf->exports > 0;
    self->buf->valid = 0;
    self->state = CLAIM_DONE;
    claim_unlist(self);
    if (held) {
        /* A view outlived the block: it could write into a published
         * message. Publish nothing. */
        ring_abort(r, &self->claim);
        PyErr_SetString(PyExc_BufferError,
                        "a view of the reserved room outlived the block "
                        "(a slice or an object made on it): the message "
                        "was aborted");
        return -1;
    }
    rc = commit ? ring_commit(r, &self->claim) : ring_abort(r, &self->claim);
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    return 0;
}

static PyObject *
Reservation_exit(ReservationObject *self, PyObject *args)
{
    PyObject *exc = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0)
                                           : Py_None;

    if (reservation_finish(self, exc == Py_None) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;
}

PyDoc_STRVAR(Reservation_commit_doc,
"commit($self, /)\n--\n\nPublish the message now (the block's end does\n"
"nothing more).");

static PyObject *
Reservation_commit(ReservationObject *self, PyObject *unused)
{
    if (self->state != CLAIM_OPEN) {
        PyErr_SetString(PyExc_RuntimeError, "no open reservation");
        return NULL;
    }
    if (reservation_finish(self, 1) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Reservation_abort_doc,
"abort($self, /)\n--\n\nGive the room up: readers skip it.");

static PyObject *
Reservation_abort(ReservationObject *self, PyObject *unused)
{
    if (self->state != CLAIM_OPEN) {
        PyErr_SetString(PyExc_RuntimeError, "no open reservation");
        return NULL;
    }
    if (reservation_finish(self, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Reservation_get_pos(ReservationObject *self, void *closure)
{
    if (self->state != CLAIM_OPEN) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLongLong(self->claim.pos);
}

static void
Reservation_dealloc(ReservationObject *self)
{
    if (self->state == CLAIM_OPEN) {
        self->state = CLAIM_DONE;
        claim_unlist(self);
        if (self->ring->r != NULL) {
            ring_abort(self->ring->r, &self->claim);
        }
        if (self->buf != NULL) {
            self->buf->valid = 0;
        }
    }
    Py_XDECREF(self->view);
    Py_XDECREF(self->buf);
    Py_DECREF(self->ring);
    PyObject_Free(self);
}

static PyMethodDef Reservation_methods[] = {
    {"__enter__", (PyCFunction)Reservation_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\n"
     "Claim the room (waiting as the reservation says); return a writable\n"
     "memoryview of it."},
    {"__exit__", (PyCFunction)Reservation_exit, METH_VARARGS,
     "__exit__($self, *exc_info, /)\n--\n\n"
     "Commit after a normal end, abort after an exception."},
    {"commit", (PyCFunction)Reservation_commit, METH_NOARGS,
     Reservation_commit_doc},
    {"abort", (PyCFunction)Reservation_abort, METH_NOARGS,
     Reservation_abort_doc},
    {NULL}
};

static PyGetSetDef Reservation_getset[] = {
    {"pos", (getter)Reservation_get_pos, NULL,
     "position of the reserved message while open, else None", NULL},
    {NULL}
};

PyDoc_STRVAR(Reservation_doc,
"Room for one message, claimed when the with block is entered\n"
"(Ring.reserve()). The block gets a writable memoryview of exactly n\n"
"bytes in the ring's mapping; it is committed when the block ends\n"
"normally and aborted when it raises. The view is released at the end:\n"
"a view that outlives the block (a slice kept) aborts the message and\n"
"raises BufferError. Commit from the thread that entered the block.");

static PyTypeObject Reservation_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring.Reservation",
    .tp_basicsize = sizeof(ReservationObject),
    .tp_dealloc = (destructor)Reservation_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Reservation_doc,
    .tp_methods = Reservation_methods,
    .tp_getset = Reservation_getset,
};

/* ---- statistics -------------------------------------------------------- */

static PyStructSequence_Field RingStats_fields[] = {
    {"capacity", "bytes of message space"},
    {"slot_size", "bytes per slot"},
    {"slot_count", "slots in the ring"},
    {"max_message", "largest payload in bytes"},
    {"tail", "next position to claim"},
    {"min_cursor", "slowest active group's cursor (tail if none)"},
    {"committed", "messages committed, ever"},
    {"aborted", "claims aborted by their producer"},
    {"dropped", "messages discarded under when_full='drop'"},
    {"recovered", "claims of dead producers turned into skips"},
    {"groups", "active groups"},
    {"processes", "attached process-table entries"},
    {"producers", "of which producing"},
    {"readers", "of which reading"},
    {"when_full", "the ring's default policy: 'wait', 'fail' or 'drop'"},
    {"timestamps", "True if messages record their commit time"},
    {"created_ns", "CLOCK_REALTIME of creation, ns"},
    {"version", "on-file format version"},
    {"header_size", "bytes of header before each payload"},
    {"file_size", "bytes of the ring file"},
    {NULL}
};

static PyStructSequence_Desc RingStats_desc = {
    "libring.RingStats",
    "RingStats: ring-wide sizes and counters (Ring.stats()): totals over all\n"
    "processes, read without stopping anybody.",
    RingStats_fields,
    20,
};

static PyStructSequence_Field GroupStats_fields[] = {
    {"name", "the group's name"},
    {"cursor", "next position the group reads"},
    {"released", "messages released by the group's readers"},
    {"lag_slots", "tail - cursor"},
    {"lag_bytes", "lag_slots * slot_size"},
    {"lag_messages", "committed messages between cursor and tail"},
    {"reader_alive", "True if a live process holds the reader"},
    {"reader_pid", "last reader's pid (0 if never read)"},
    {NULL}
};

static PyStructSequence_Desc GroupStats_desc = {
    "libring.GroupStats",
    "GroupStats: counters of one consumer group (Reader.stats(),\n"
    "Ring.group_stats()).",
    GroupStats_fields,
    8,
};

/* A named tuple of class @cls made of the @n items of @t (NULL items: an
 * exception is set). Steals @t. */
static PyObject *
make_named(PyObject *cls, PyObject *t, Py_ssize_t n)
{
    PyObject *res;
    Py_ssize_t i;

    for (i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(t, i) == NULL) {
            Py_DECREF(t);
            return NULL;
        }
    }
    res = PyObject_Call(cls, t, NULL);
    Py_DECREF(t);
    return res;
}

static PyObject *
make_ring_stats(const struct ring_stats *st)
{
    PyObject *s = PyTuple_New(RingStats_desc.n_in_sequence);
    int i = 0;

    if (s == NULL) {
        return NULL;
    }
#define U64(v) PyTuple_SET_ITEM(s, i++, \
        PyLong_FromUnsignedLongLong((unsigned long long)(v)))
    U64(st->capacity);
    U64(st->slot_size);
    U64(st->slot_count);
    U64(st->max_message);
    U64(st->tail);
    U64(st->min_cursor);
    U64(st->committed);
    U64(st->aborted);
    U64(st->dropped);
    U64(st->recovered);
    U64(st->groups);
    U64(st->processes);
    U64(st->producers);
    U64(st->readers);
    PyTuple_SET_ITEM(s, i++, PyUnicode_FromString(
                         policy_name(st->full_policy)));
    PyTuple_SET_ITEM(s, i++, PyBool_FromLong(st->flags
                                             & RING_CFG_TIMESTAMPS));
    U64(st->created_ns);
    U64(st->version);
    U64(st->hdr_size);
    U64(st->file_size);
#undef U64
    return make_named(RingStats_Type, s, RingStats_desc.n_in_sequence);
}

static PyObject *
make_group_stats(const struct ring_group_stats *gs)
{
    PyObject *s = PyTuple_New(GroupStats_desc.n_in_sequence);

    if (s == NULL) {
        return NULL;
    }
    PyTuple_SET_ITEM(s, 0, PyUnicode_FromString(gs->name));
    PyTuple_SET_ITEM(s, 1, PyLong_FromUnsignedLongLong(gs->cursor));
    PyTuple_SET_ITEM(s, 2, PyLong_FromUnsignedLongLong(gs->released));
    PyTuple_SET_ITEM(s, 3, PyLong_FromUnsignedLongLong(gs->lag_slots));
    PyTuple_SET_ITEM(s, 4, PyLong_FromUnsignedLongLong(gs->lag_bytes));
    PyTuple_SET_ITEM(s, 5, PyLong_FromUnsignedLongLong(gs->lag_messages));
    PyTuple_SET_ITEM(s, 6, PyBool_FromLong(gs->reader_alive));
    PyTuple_SET_ITEM(s, 7, PyLong_FromLong(gs->reader_pid));
    return make_named(GroupStats_Type, s, GroupStats_desc.n_in_sequence);
}

/*
 * A collections.namedtuple class for @desc (names, docstrings of the
 * class and of each field), in module libring.
 */
static PyObject *
named_tuple_class(const PyStructSequence_Desc *desc)
{
    PyObject *collections, *names, *cls = NULL, *doc;
    const char *dot = strrchr(desc->name, '.');
    int i;

    collections = PyImport_ImportModule("collections");
    if (collections == NULL) {
        return NULL;
    }
    names = PyList_New(desc->n_in_sequence);
    for (i = 0; names != NULL && i < desc->n_in_sequence; i++) {
        PyObject *s = PyUnicode_FromString(desc->fields[i].name);

        if (s == NULL) {
            Py_CLEAR(names);
            break;
        }
        PyList_SET_ITEM(names, i, s);
    }
    if (names != NULL) {
        PyObject *kw = Py_BuildValue("{s:s}", "module", "libring");

        if (kw != NULL) {
            PyObject *nt = PyObject_GetAttrString(collections, "namedtuple");
            PyObject *args = Py_BuildValue("(sO)", dot + 1, names);

            if (nt != NULL && args != NULL) {
                cls = PyObject_Call(nt, args, kw);
            }
            Py_XDECREF(nt);
            Py_XDECREF(args);
            Py_DECREF(kw);
        }
        Py_DECREF(names);
    }
    Py_DECREF(collections);
    if (cls == NULL) {
        return NULL;
    }
    doc = PyUnicode_FromString(desc->doc);
    if (doc == NULL || PyObject_SetAttrString(cls, "__doc__", doc) < 0) {
        Py_XDECREF(doc);
        Py_DECREF(cls);
        return NULL;
    }
    Py_DECREF(doc);
    for (i = 0; i < desc->n_in_sequence; i++) {
        PyObject *prop = PyObject_GetAttrString(cls, desc->fields[i].name);
        PyObject *fdoc = PyUnicode_FromString(desc->fields[i].doc);
        int rc = -1;

        if (prop != NULL && fdoc != NULL) {
            rc = PyObject_SetAttrString(prop, "__doc__", fdoc);
        }
        Py_XDECREF(prop);
        Py_XDECREF(fdoc);
        if (rc < 0) {
            PyErr_Clear();    /* a field without its text: no harm */
        }
    }
    return cls;
}

/* ---- Ring -------------------------------------------------------------- */

static RingObject *
ring_wrap(struct ring *r, PyObject *path, char mode)
{
    RingObject *self = PyObject_New(RingObject, &Ring_Type);
    struct ring_stats st;

    if (self == NULL) {
        ring_close(r);
        return NULL;
    }
    self->r = r;
    Py_INCREF(path);
    self->path = path;
    self->mode = mode;
    self->active = 0;
    self->readers = NULL;
    self->claims = NULL;
    self->full_policy = RING_FULL_WAIT;
    if (ring_stats(r, &st) == 0) {
        self->full_policy = st.full_policy;
    }
    return self;
}

struct send_ctx {
    struct ring *r;
    uint32_t type;
    const void *data;
    size_t len;
};

static int
do_send(void *ctx, unsigned flags, const struct timespec *deadline)
{
    struct send_ctx *c = ctx;

    return ring_send(c->r, c->type, c->data, c->len, flags, deadline);
}

/*
 * Send one message: 1 sent, 0 dropped, -1 with an exception set. Tries
 * without waiting first; waits (without the GIL) only on a full ring under
 * the "wait" policy.
 */
static int
ring_send_one(RingObject *self, uint32_t type, const void *data, size_t len,
              unsigned policy, double timeout)
{
    int rc;

    if (policy == RING_FULL_DEFAULT) {
        policy = self->full_policy;
    }
    rc = ring_send(self->r, type, data, len,
                   policy == RING_FULL_WAIT ? RING_FULL_FAIL : policy, NULL);
    if (rc == -EAGAIN && policy == RING_FULL_WAIT) {
        struct send_ctx ctx = {self->r, type, data, len};

        rc = run_waiting(do_send, &ctx, RING_FULL_WAIT, timeout,
                         &self->active);
        if (rc == ERR_PY) {
            return -1;
        }
    }
    if (rc == -ENOBUFS) {
        return 0;
    }
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    return 1;
}

PyDoc_STRVAR(Ring_send_doc,
"send($self, data, /, type=0, when_full=None, timeout=None)\n--\n\n"
"Copy one message (any bytes-like object) into the ring and commit it.\n"
"type is a 32-bit tag for readers. when_full ('wait', 'fail', 'drop';\n"
"None: the ring's default) says what a full ring does: wait up to\n"
"timeout seconds (None: no limit; TimeoutError after it), fail\n"
"(BlockingIOError), or drop the message and count it. Returns True when\n"
"sent, False when dropped.");

static PyObject *
Ring_send(RingObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"data", "type", "when_full",
                                        "timeout"};
    PyObject *a[4];
    uint32_t type = 0;
    unsigned policy = RING_FULL_DEFAULT;
    double timeout = -1.0;
    Py_buffer view;
    int rc;

    if (nargs == 1 && kwnames == NULL) {
        a[0] = args[0];
    }
    else {
        if (parse_fast(args, nargs, kwnames, names, 4, 1, 1, a, "send") < 0
            || parse_u32(a[1], "type", &type) < 0
            || parse_policy(a[2], &policy) < 0
            || parse_timeout(a[3], &timeout) < 0) {
            return NULL;
        }
    }
    if (check_ring(self) < 0
        || PyObject_GetBuffer(a[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    rc = ring_send_one(self, type, view.buf, (size_t)view.len, policy,
                       timeout);
    PyBuffer_Release(&view);
    if (rc < 0) {
        return NULL;
    }
    return PyBool_FromLong(rc);
}

struct batch_ctx {
    struct ring *r;
    const struct ring_out *out;
    unsigned n;
};

static int
do_send_batch(void *ctx, unsigned flags, const struct timespec *deadline)
{
    struct batch_ctx *c = ctx;

    return ring_send_batch(c->r, c->out, c->n, flags, deadline);
}

PyDoc_STRVAR(Ring_send_batch_doc,
"send_batch($self, messages, /, type=0, when_full=None, timeout=None)\n"
"--\n\n"
"Send every bytes-like object of the iterable messages, in order, up to\n"
"256 per claim (one atomic operation for each group of them). when_full\n"
"and timeout as for send(); timeout applies to each wait. Returns the\n"
"number sent (under 'drop', those dropped are not counted). A failure\n"
"part way raises with the count already sent in the exception's 'sent'\n"
"attribute.");

static PyObject *
Ring_send_batch(RingObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"messages", "type", "when_full", "timeout",
                             NULL};
    PyObject *msgs, *tobj = NULL, *pobj = Py_None, *toobj = Py_None;
    PyObject *seq;
    uint32_t type = 0;
    unsigned policy = RING_FULL_DEFAULT;
    double timeout;
    Py_ssize_t total, base, sent = 0;
    struct ring_out out[SEND_BATCH_MAX];
    Py_buffer views[SEND_BATCH_MAX];

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO:send_batch", kwlist,
                                     &msgs, &tobj, &pobj, &toobj)
        || parse_u32(tobj, "type", &type) < 0
        || parse_policy(pobj, &policy) < 0
        || parse_timeout(toobj, &timeout) < 0
        || check_ring(self) < 0) {
        return NULL;
    }
    if (policy == RING_FULL_DEFAULT) {
        policy = self->full_policy;
    }
    seq = PySequence_Fast(msgs, "messages must be iterable");
    if (seq == NULL) {
        return NULL;
    }
    total = PySequence_Fast_GET_SIZE(seq);
    for (base = 0; base < total; base += SEND_BATCH_MAX) {
        Py_ssize_t n = total - base, i;
        unsigned done = 0;
        int rc = 0;

        if (n > SEND_BATCH_MAX) {
            n = SEND_BATCH_MAX;
        }
        for (i = 0; i < n; i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(seq, base + i);

            if (PyObject_GetBuffer(item, &views[i], PyBUF_SIMPLE) < 0) {
                break;
            }
            if ((size_t)views[i].len > UINT32_MAX) {
                PyBuffer_Release(&views[i]);
                ring_error(EMSGSIZE, NULL);
                break;
            }
            out[i].data = views[i].buf;
            out[i].len = (uint32_t)views[i].len;
            out[i].type = type;
        }
        if (i < n) {
            while (i-- > 0) {
                PyBuffer_Release(&views[i]);
            }
            goto fail;
        }
        while (done < (unsigned)n) {
            struct batch_ctx ctx = {self->r, out + done,
                                    (unsigned)n - done};

            rc = ring_send_batch(self->r, ctx.out, ctx.n,
                                 policy == RING_FULL_WAIT ? RING_FULL_FAIL
                                                          : policy, NULL);
            if (rc == -EAGAIN && policy == RING_FULL_WAIT) {
                rc = run_waiting(do_send_batch, &ctx, RING_FULL_WAIT,
                                 timeout, &self->active);
            }
            if (rc == -ENOBUFS) {
                done = (unsigned)n; /* the rest of this group dropped */
                rc = 0;
                break;
            }
            if (rc < 0) {
                break;
            }
            done += (unsigned)rc;
            sent += rc;
        }
        for (i = 0; i < n; i++) {
            PyBuffer_Release(&views[i]);
        }
        if (rc == ERR_PY) {
            goto fail;
        }
        if (rc < 0) {
            ring_error_sent(rc, sent);
            goto fail;
        }
    }
    Py_DECREF(seq);
    return PyLong_FromSsize_t(sent);

fail:
    Py_DECREF(seq);
    return NULL;
}

PyDoc_STRVAR(Ring_reserve_doc,
"reserve($self, n, /, type=0, when_full=None, timeout=None)\n--\n\n"
"Zero-copy producing: a Reservation of n payload bytes. Use it as\n\n"
"    with ring.reserve(n) as buf:\n"
"        buf[:] = ...     # a writable memoryview into the mapping\n\n"
"The room is claimed when the block is entered (waiting as when_full\n"
"and timeout say, as for send()), committed when the block ends\n"
"normally and aborted when it raises.");

static PyObject *
Ring_reserve(RingObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"n", "type", "when_full", "timeout", NULL};
    PyObject *tobj = NULL, *pobj = Py_None, *toobj = Py_None;
    ReservationObject *res;
    Py_ssize_t n;
    uint32_t type = 0;
    unsigned policy;
    double timeout;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "n|OOO:reserve", kwlist, &n,
                                     &tobj, &pobj, &toobj)
        || parse_u32(tobj, "type", &type) < 0
        || parse_policy(pobj, &policy) < 0
        || parse_timeout(toobj, &timeout) < 0
        || check_ring(self) < 0) {
        return NULL;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        return NULL;
    }
    res = PyObject_New(ReservationObject, &Reservation_Type);
    if (res == NULL) {
        return NULL;
    }
    Py_INCREF(self);
    res->ring = self;
    res->buf = NULL;
    res->view = NULL;
    res->len = (size_t)n;
    res->type = type;
    res->flags = policy;
    res->timeout = timeout;
    res->state = CLAIM_NEW;
    res->listed = 0;
    res->next_claim = res->prev_claim = NULL;
    memset(&res->claim, 0, sizeof(res->claim));
    return (PyObject *)res;
}

PyDoc_STRVAR(Ring_reader_doc,
"reader($self, group, /, create=False, from_='oldest', shared=False,\n"
"       members=0)\n--\n\n"
"Become the reader of consumer group group (one live reader per group:\n"
"OSError EBUSY while another process holds it; a dead holder's group is\n"
"taken over at its saved cursor). create=True creates the group if it\n"
"is missing, starting at from_: 'oldest' retained message or 'newest',\n"
"shared as create_group() says. A shared group takes up to its member\n"
"limit of readers at once, and each message goes to one of them.");

static PyObject *
Ring_reader(RingObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"group", "create", "from_", "shared",
                             "members", NULL};
    PyObject *group, *fobj = Py_None;
    ReaderObject *rdo;
    const char *name;
    int create = 0, shared = 0, members = 0, rc;
    unsigned flags;
    struct ring_reader *rd;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "U|pOpi:reader", kwlist,
                                     &group, &create, &fobj, &shared,
                                     &members)
        || parse_from(fobj, &flags) < 0 || check_ring(self) < 0
        || parse_shared(shared, members, &flags) < 0
        || (name = group_name(group)) == NULL) {
        return NULL;
    }
    if (create) {
        flags |= RING_GROUP_CREATE;
    }
    rc = ring_reader_open(self->r, name, flags, &rd);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    rdo = PyObject_New(ReaderObject, &Reader_Type);
    if (rdo == NULL) {
        ring_reader_close(rd);
        return NULL;
    }
    Py_INCREF(self);
    rdo->ring = self;
    rdo->rd = rd;
    Py_INCREF(group);
    rdo->group = group;
    rdo->busy = 0;
    rdo->nbatch = rdo->next = 0;
    rdo->live = NULL;
    rdo->prev_reader = NULL;
    rdo->next_reader = self->readers;
    if (self->readers != NULL) {
        self->readers->prev_reader = rdo;
    }
    self->readers = rdo;
    return (PyObject *)rdo;
}

PyDoc_STRVAR(Ring_create_group_doc,
"create_group($self, name, /, from_='oldest', shared=False, members=0)\n"
"--\n\n"
"Add consumer group name. From now on producers keep every message\n"
"until the group released it. FileExistsError if it exists.\n"
"shared=True makes a work-sharing group: up to members readers (0: the\n"
"most, 64) read it at once, each message goes to one of them, and a\n"
"dead reader's unreleased messages go to another (at least once).");

static PyObject *
Ring_create_group(RingObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "from_", "shared", "members", NULL};
    PyObject *group, *fobj = Py_None;
    const char *name;
    unsigned flags;
    int shared = 0, members = 0, rc;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "U|Opi:create_group", kwlist,
                                     &group, &fobj, &shared, &members)
        || parse_from(fobj, &flags) < 0 || check_ring(self) < 0
        || parse_shared(shared, members, &flags) < 0
        || (name = group_name(group)) == NULL) {
        return NULL;
    }
    rc = ring_group_create(self->r, name, flags);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Ring_remove_group_doc,
"remove_group($self, name, /)\n--\n\n"
"Delete consumer group name: producers no longer wait for it.");

static PyObject *
Ring_remove_group(RingObject *self, PyObject *group)
{
    const char *name;
    int rc;

    if (check_ring(self) < 0 || (name = group_name(group)) == NULL) {
        return NULL;
    }
    rc = ring_group_remove(self->r, name);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Ring_groups_doc,
"groups($self, /)\n--\n\nThe names of the active consumer groups.");

static PyObject *
Ring_groups(RingObject *self, PyObject *unused)
{
    char (*names)[RING_GROUP_NAME_MAX + 1] = NULL;
    PyObject *list;
    int n, m = 0, i;

    if (check_ring(self) < 0) {
        return NULL;
    }
    for (;;) {
        n = ring_group_list(self->r, names, (unsigned)m);
        if (n < 0) {
            PyMem_Free(names);
            return ring_error(n, NULL);
        }
        if (n <= m) {
            break;
        }
        m = n;
        PyMem_Free(names);
        names = PyMem_Malloc((size_t)m * sizeof(*names));
        if (names == NULL) {
            return PyErr_NoMemory();
        }
    }
    list = PyList_New(n);
    for (i = 0; list != NULL && i < n; i++) {
        PyObject *s = PyUnicode_FromString(names[i]);

        if (s == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, s);
    }
    PyMem_Free(names);
    return list;
}

PyDoc_STRVAR(Ring_stats_doc,
"stats($self, /)\n--\n\nRing-wide sizes and counters as a RingStats named\n"
"tuple.");

static PyObject *
Ring_stats(RingObject *self, PyObject *unused)
{
    struct ring_stats st;
    int rc;

    if (check_ring(self) < 0) {
        return NULL;
    }
    rc = ring_stats(self->r, &st);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    return make_ring_stats(&st);
}

PyDoc_STRVAR(Ring_group_stats_doc,
"group_stats($self, name, /)\n--\n\n"
"Counters of consumer group name as a GroupStats named tuple.");

static PyObject *
Ring_group_stats(RingObject *self, PyObject *group)
{
    struct ring_group_stats gs;
    const char *name;
    int rc;

    if (check_ring(self) < 0 || (name = group_name(group)) == NULL) {
        return NULL;
    }
    rc = ring_group_stats(self->r, name, &gs);
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    return make_group_stats(&gs);
}

/* Close the handle if nothing depends on it any more. */
static int
ring_do_close(RingObject *self)
{
    ReaderObject *rd;
    ReservationObject *res;

    if (self->r == NULL) {
        return 0;
    }
    if (self->active > 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the ring is in use by another thread");
        return -1;
    }
    for (rd = self->readers; rd != NULL; rd = rd->next_reader) {
        BufferObject *b;

        for (b = rd->live; b != NULL; b = b->next_buf) {
            if (b->msg != NULL) {
                release_view(&b->msg->view);
            }
            if (b->exports > 0) {
                goto exported;
            }
        }
    }
    for (res = self->claims; res != NULL; res = res->next_claim) {
        if (release_view(&res->view) < 0 || res->buf->exports > 0) {
            goto exported;
        }
    }
    /* Readers are closed with nothing more released, open claims are
     * aborted (as ring_close does). */
    while ((rd = self->readers) != NULL) {
        if (reader_close(rd, 0) < 0) {
            return -1;
        }
    }
    while ((res = self->claims) != NULL) {
        res->state = CLAIM_DONE;
        res->buf->valid = 0;
        ring_abort(self->r, &res->claim);
        claim_unlist(res);
    }
    ring_close(self->r);
    self->r = NULL;
    return 0;

exported:
    PyErr_SetString(PyExc_BufferError,
                    "cannot close the ring: views of its messages or "
                    "reservations still exist");
    return -1;
}

PyDoc_STRVAR(Ring_close_doc,
"close($self, /)\n--\n\n"
"Unmap the ring. Its readers are closed without releasing more (what they\n"
"handed out is read again), open reservations are aborted. BufferError\n"
"while a view of a message or reservation is still held, as for\n"
"mmap.close().");

static PyObject *
Ring_close(RingObject *self, PyObject *unused)
{
    if (ring_do_close(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Ring_enter(RingObject *self, PyObject *unused)
{
    if (check_ring(self) < 0) {
        return NULL;
    }
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
Ring_exit(RingObject *self, PyObject *args)
{
    if (ring_do_close(self) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;
}

static PyObject *
Ring_get_closed(RingObject *self, void *closure)
{
    return PyBool_FromLong(self->r == NULL);
}

static PyObject *
Ring_get_mode(RingObject *self, void *closure)
{
    return PyUnicode_FromStringAndSize(&self->mode, 1);
}

static PyObject *
Ring_get_max_message(RingObject *self, void *closure)
{
    if (check_ring(self) < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLong(ring_max_message(self->r));
}

static PyObject *
Ring_get_when_full(RingObject *self, void *closure)
{
    return PyUnicode_FromString(policy_name(self->full_policy));
}

static void
Ring_dealloc(RingObject *self)
{
    /* Readers, reservations and buffers keep their ring: none is left. */
    if (self->r != NULL) {
        ring_close(self->r);
    }
    Py_DECREF(self->path);
    PyObject_Free(self);
}

static PyObject *
Ring_repr(RingObject *self)
{
    return PyUnicode_FromFormat("<libring.Ring path=%R mode='%c'%s>",
                                self->path, self->mode,
                                self->r == NULL ? " closed" : "");
}


/* ---- Observer ---------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    struct ring_observer *o;
    PyObject *path;             /* as given */
    char *buf;                  /* the copy of the last message */
    size_t size;
    int busy;                   /* a call runs without the GIL */
} ObserverObject;

static PyTypeObject Observer_Type;

static int
check_observer(ObserverObject *self)
{
    if (self->o == NULL) {
        PyErr_SetString(PyExc_ValueError, "operation on a closed observer");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the observer is in use by another thread");
        return -1;
    }
    return 0;
}

/* "oldest", "newest" or a position: seek @o there. */
static int
observer_seek(ObserverObject *self, PyObject *from)
{
    unsigned whence = RING_OBSERVE_OLDEST;
    unsigned long long pos = 0;
    const char *s;
    int rc;

    if (from == NULL || from == Py_None) {
        whence = RING_OBSERVE_OLDEST;
    }
    else if (PyLong_Check(from)) {
        pos = PyLong_AsUnsignedLongLong(from);
        if (pos == (unsigned long long)-1 && PyErr_Occurred()) {
            return -1;
        }
        whence = RING_OBSERVE_AT;
    }
    else {
        s = PyUnicode_Check(from) ? PyUnicode_AsUTF8(from) : NULL;
        if (s != NULL && strcmp(s, "oldest") == 0) {
            whence = RING_OBSERVE_OLDEST;
        }
        else if (s != NULL && strcmp(s, "newest") == 0) {
            whence = RING_OBSERVE_NEWEST;
        }
        else {
            PyErr_SetString(PyExc_ValueError,
                            "from_ must be 'oldest', 'newest' or a position");
            return -1;
        }
    }
    rc = ring_observer_seek(self->o, whence, (uint64_t)pos);
    if (rc < 0) {
        ring_error(rc, NULL);
        return -1;
    }
    return 0;
}

/* Open an observer of the ring at @path (an object PyUnicode_FSConverter
 * took), placed at @from. */
static PyObject *
observer_new(PyObject *path, PyObject *from)
{
    ObserverObject *self;
    PyObject *fs = NULL;
    int rc;

    if (!PyUnicode_FSConverter(path, &fs)) {
        return NULL;
    }
    self = PyObject_New(ObserverObject, &Observer_Type);
    if (self == NULL) {
        Py_DECREF(fs);
        return NULL;
    }
    self->o = NULL;
    self->buf = NULL;
    self->size = 0;
    self->busy = 0;
    Py_INCREF(path);
    self->path = path;
    Py_BEGIN_ALLOW_THREADS
    rc = ring_observer_open(PyBytes_AS_STRING(fs), 0, &self->o);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        ring_error(rc, path);
        Py_DECREF(fs);
        Py_DECREF(self);
        return NULL;
    }
    Py_DECREF(fs);
    if (observer_seek(self, from) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

struct copy_ctx {
    ObserverObject *self;
    struct ring_msg msg;
};

static int
observer_copy_fn(void *arg, unsigned flags, const struct timespec *deadline)
{
    struct copy_ctx *c = arg;

    return ring_observer_copy(c->self->o, &c->msg, c->self->buf,
                              c->self->size, flags, deadline);
}

/*
 * The next intact message, copied, waiting up to @timeout seconds; NULL
 * without an exception when none came in time. Overruns are not errors:
 * the observer moves on and counts the positions lost (Observer.lost).
 */
static PyObject *
observer_take(ObserverObject *self, double timeout)
{
    struct copy_ctx c = { .self = self };
    MessageObject *m;
    PyObject *bytes;
    int rc;

    if (check_observer(self) < 0) {
        return NULL;
    }
    if (self->buf == NULL) {
        self->buf = PyMem_Malloc(4096);
        if (self->buf == NULL) {
            return PyErr_NoMemory();
        }
        self->size = 4096;
    }
    for (;;) {
        rc = run_waiting(observer_copy_fn, &c, 0, timeout, &self->busy);
        if (rc == -EOVERFLOW || rc == -EBADMSG) {
            continue;           /* counted; the next intact one */
        }
        if (rc == -EMSGSIZE) {
            char *nb = PyMem_Realloc(self->buf, c.msg.len);

            if (nb == NULL) {
                return PyErr_NoMemory();
            }
            self->buf = nb;
            self->size = c.msg.len;
            continue;
        }
        break;
    }
    if (rc == ERR_PY) {
        return NULL;
    }
    if (rc == -ETIMEDOUT || rc == -EAGAIN) {
        return NULL;
    }
    if (rc < 0) {
        return ring_error(rc, NULL);
    }
    bytes = PyBytes_FromStringAndSize(self->buf, c.msg.len);
    if (bytes == NULL) {
        return NULL;
    }
    m = message_new(bytes, &c.msg, PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    return (PyObject *)m;
}

static PyObject *
Observer_iternext(ObserverObject *self)
{
    return observer_take(self, -1.0);
}

PyDoc_STRVAR(Observer_take_doc,
"take($self, /, timeout=None)\n--\n\n"
"The next message, copied out of the ring and checked intact, or None if\n"
"none came within timeout seconds (None: no limit; 0: do not wait).\n"
"Where producers overwrote messages before the observer read them, it\n"
"moves on to the oldest intact one and adds the positions lost to\n"
"Observer.lost: it never returns torn or stale bytes.");

static PyObject *
observer_take_any(PyObject *self, double timeout)
{
    return observer_take((ObserverObject *)self, timeout);
}

static PyObject *
Observer_take(ObserverObject *self, PyObject *args, PyObject *kw)
{
    return take_method((PyObject *)self, args, kw, observer_take_any);
}

PyDoc_STRVAR(Observer_seek_doc,
"seek($self, from_, /)\n--\n\n"
"Move to the oldest message still in the ring ('oldest'), after the\n"
"newest ('newest'), or to a position (an int).");

static PyObject *
Observer_seek(ObserverObject *self, PyObject *from)
{
    if (check_observer(self) < 0 || observer_seek(self, from) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Observer_stats_doc,
"stats($self, /)\n--\n\n"
"A dict: position (next to read), delivered, lost (positions lost to\n"
"overruns), overruns, last_lost, skipped (aborted and dead claims,\n"
"corrupt messages).");

static PyObject *
Observer_stats(ObserverObject *self, PyObject *unused)
{
    struct ring_observer_stats st;

    if (check_observer(self) < 0) {
        return NULL;
    }
    ring_observer_stats(self->o, &st);
    return Py_BuildValue("{sKsKsKsKsKsK}",
                         "position", (unsigned long long)st.position,
                         "delivered", (unsigned long long)st.delivered,
                         "lost", (unsigned long long)st.lost,
                         "overruns", (unsigned long long)st.overruns,
                         "last_lost", (unsigned long long)st.last_lost,
                         "skipped", (unsigned long long)st.skipped);
}

static PyObject *
Observer_get_lost(ObserverObject *self, void *unused)
{
    struct ring_observer_stats st;

    if (check_observer(self) < 0) {
        return NULL;
    }
    ring_observer_stats(self->o, &st);
    return PyLong_FromUnsignedLongLong(st.lost);
}

static PyObject *
Observer_get_position(ObserverObject *self, void *unused)
{
    struct ring_observer_stats st;

    if (check_observer(self) < 0) {
        return NULL;
    }
    ring_observer_stats(self->o, &st);
    return PyLong_FromUnsignedLongLong(st.position);
}

static PyObject *
Observer_get_closed(ObserverObject *self, void *unused)
{
    return PyBool_FromLong(self->o == NULL);
}

PyDoc_STRVAR(Observer_close_doc,
"close($self, /)\n--\n\nUnmap the ring. Messages taken stay valid (they\n"
"are copies).");

static PyObject *
Observer_close(ObserverObject *self, PyObject *unused)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the observer is in use by another thread");
        return NULL;
    }
    ring_observer_close(self->o);
    self->o = NULL;
    Py_RETURN_NONE;
}

static PyObject *
Observer_enter(ObserverObject *self, PyObject *unused)
{
    if (check_observer(self) < 0) {
        return NULL;
    }
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
Observer_exit(ObserverObject *self, PyObject *args)
{
    return Observer_close(self, NULL);
}

static void
Observer_dealloc(ObserverObject *self)
{
    ring_observer_close(self->o);
    PyMem_Free(self->buf);
    Py_XDECREF(self->path);
    PyObject_Free(self);
}

static PyObject *
Observer_repr(ObserverObject *self)
{
    return PyUnicode_FromFormat("<libring.Observer %R%s>", self->path,
                                self->o == NULL ? " closed" : "");
}

static PyMethodDef Observer_methods[] = {
    {"take", (PyCFunction)(void (*)(void))Observer_take,
     METH_VARARGS | METH_KEYWORDS, Observer_take_doc},
    {"seek", (PyCFunction)Observer_seek, METH_O, Observer_seek_doc},
    {"stats", (PyCFunction)Observer_stats, METH_NOARGS, Observer_stats_doc},
    {"close", (PyCFunction)Observer_close, METH_NOARGS, Observer_close_doc},
    {"__enter__", (PyCFunction)Observer_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the observer."},
    {"__exit__", (PyCFunction)Observer_exit, METH_VARARGS,
     "__exit__($self, *exc_info, /)\n--\n\nClose the observer."},
    {NULL}
};

static PyGetSetDef Observer_getset[] = {
    {"lost", (getter)Observer_get_lost, NULL,
     "positions lost to overruns so far", NULL},
    {"position", (getter)Observer_get_position, NULL,
     "the next position it reads", NULL},
    {"closed", (getter)Observer_get_closed, NULL, "True once closed", NULL},
    {NULL}
};

PyDoc_STRVAR(Observer_doc,
"A read-only watcher of a ring (libring.observe() or Ring.observe()):\n"
"it opens the file read-only, maps it read-only, holds no lock and no\n"
"cursor, so producers never wait for it. Iterating (or take()) yields\n"
"copies of the messages, each checked intact after the copy; where it\n"
"was overrun it says how many positions it lost in .lost. A context\n"
"manager that closes it.");

static PyTypeObject Observer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring.Observer",
    .tp_basicsize = sizeof(ObserverObject),
    .tp_dealloc = (destructor)Observer_dealloc,
    .tp_repr = (reprfunc)Observer_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Observer_doc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Observer_iternext,
    .tp_methods = Observer_methods,
    .tp_getset = Observer_getset,
};

PyDoc_STRVAR(Ring_observe_doc,
"observe($self, /, from_='oldest')\n--\n\n"
"An Observer of this ring's file, starting at the oldest message still\n"
"in it ('oldest'), after the newest ('newest'), or at a position.");

static PyObject *
Ring_observe(RingObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"from_", NULL};
    PyObject *from = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:observe", kwlist, &from)
        || check_ring(self) < 0) {
        return NULL;
    }
    return observer_new(self->path, from);
}

static PyMethodDef Ring_methods[] = {
    {"send", (PyCFunction)(void (*)(void))Ring_send,
     METH_FASTCALL | METH_KEYWORDS, Ring_send_doc},
    {"send_batch", (PyCFunction)(void (*)(void))Ring_send_batch,
     METH_VARARGS | METH_KEYWORDS, Ring_send_batch_doc},
    {"reserve", (PyCFunction)(void (*)(void))Ring_reserve,
     METH_VARARGS | METH_KEYWORDS, Ring_reserve_doc},
    {"reader", (PyCFunction)(void (*)(void))Ring_reader,
     METH_VARARGS | METH_KEYWORDS, Ring_reader_doc},
    {"observe", (PyCFunction)(void (*)(void))Ring_observe,
     METH_VARARGS | METH_KEYWORDS, Ring_observe_doc},
    {"create_group", (PyCFunction)(void (*)(void))Ring_create_group,
     METH_VARARGS | METH_KEYWORDS, Ring_create_group_doc},
    {"remove_group", (PyCFunction)Ring_remove_group, METH_O,
     Ring_remove_group_doc},
    {"groups", (PyCFunction)Ring_groups, METH_NOARGS, Ring_groups_doc},
    {"stats", (PyCFunction)Ring_stats, METH_NOARGS, Ring_stats_doc},
    {"group_stats", (PyCFunction)Ring_group_stats, METH_O,
     Ring_group_stats_doc},
    {"close", (PyCFunction)Ring_close, METH_NOARGS, Ring_close_doc},
    {"__enter__", (PyCFunction)Ring_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the ring."},
    {"__exit__", (PyCFunction)Ring_exit, METH_VARARGS,
     "__exit__($self, *exc_info, /)\n--\n\nClose the ring (see close())."},
    {NULL}
};

static PyMemberDef Ring_members[] = {
    {"path", T_OBJECT, offsetof(RingObject, path), READONLY,
     "the path the ring was opened with"},
    {NULL}
};

static PyGetSetDef Ring_getset[] = {
    {"closed", (getter)Ring_get_closed, NULL, "True once closed", NULL},
    {"mode", (getter)Ring_get_mode, NULL,
     "'w' read-write, 'r' read-only, 'c' private copy", NULL},
    {"max_message", (getter)Ring_get_max_message, NULL,
     "largest payload the ring accepts, in bytes", NULL},
    {"when_full", (getter)Ring_get_when_full, NULL,
     "the ring's default policy for a full ring", NULL},
    {NULL}
};

PyDoc_STRVAR(Ring_doc,
"An open ring (libring.create() or libring.open()); a context manager\n"
"that closes it.\n\n"
"Producing: send(), send_batch(), and zero-copy reserve().\n"
"Reading: reader(group) gives the group's Reader.\n"
"Groups: create_group(), remove_group(), groups(), group_stats().\n"
"Counters: stats().\n\n"
"A handle inherited across fork() fails every call with\n"
"ChildProcessError: open the ring again in the child.");

static PyTypeObject Ring_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libring.Ring",
    .tp_basicsize = sizeof(RingObject),
    .tp_dealloc = (destructor)Ring_dealloc,
    .tp_repr = (reprfunc)Ring_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Ring_doc,
    .tp_methods = Ring_methods,
    .tp_members = Ring_members,
    .tp_getset = Ring_getset,
};

/* ---- module functions -------------------------------------------------- */

PyDoc_STRVAR(create_doc,
"create(path, capacity=None, slot_size=None, groups=(), when_full='wait',\n"
"       timestamps=False, max_message=None, max_groups=None,\n"
"       max_processes=None, mode=0o600, single_producer=False,\n"
"       prefault=False)\n--\n\n"
"Create a new ring file at path and open it read-write; returns a Ring.\n"
"capacity: bytes of message space, a power of two >= the page size\n"
"(default 64 MiB); slot_size: allocation unit, a power of two 8..4096\n"
"(default 16); groups: names of consumer groups to create at once (so\n"
"that nothing sent is lost before they read); when_full: the ring's\n"
"default policy; timestamps: record each message's commit time;\n"
"max_message: largest payload (default capacity / 4); max_groups and\n"
"max_processes: table sizes (16 and 256); mode: the file's permissions.\n"
"The file is made complete before it appears at path\n"
"(FileExistsError if something is there already).");

static PyObject *
mod_create(PyObject *mod, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "capacity", "slot_size", "groups",
                             "when_full", "timestamps", "max_message",
                             "max_groups", "max_processes", "mode",
                             "single_producer", "prefault", NULL};
    PyObject *path = NULL, *cap = Py_None, *slot = Py_None;
    PyObject *groups = NULL, *pobj = NULL, *maxmsg = Py_None;
    PyObject *maxg = Py_None, *maxp = Py_None, *seq = NULL;
    PyObject *pathobj;
    int timestamps = 0, single = 0, prefault = 0, rc;
    unsigned int fmode = 0600, policy;
    struct ring_config cfg;
    struct ring *r;
    unsigned flags = 0;
    Py_ssize_t i;
    RingObject *ro;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|OOOOpOOOIpp:create",
                                     kwlist, PyUnicode_FSConverter, &path,
                                     &cap, &slot, &groups, &pobj,
                                     &timestamps, &maxmsg, &maxg, &maxp,
                                     &fmode, &single, &prefault)) {
        return NULL;
    }
    ring_config_init(&cfg);
    if (cap != Py_None) {
        unsigned long long c = PyLong_AsUnsignedLongLong(cap);

        if (c == (unsigned long long)-1 && PyErr_Occurred()) {
            goto fail;
        }
        cfg.capacity = c;
    }
    if (parse_u32(slot, "slot_size", &cfg.slot_size) < 0
        || parse_u32(maxmsg, "max_message", &cfg.max_message) < 0
        || parse_u32(maxg, "max_groups", &cfg.groups) < 0
        || parse_u32(maxp, "max_processes", &cfg.processes) < 0
        || parse_policy(pobj, &policy) < 0) {
        goto fail;
    }
    if (policy != RING_FULL_DEFAULT) {
        cfg.full_policy = policy;
    }
    cfg.mode = fmode;
    if (timestamps) {
        cfg.flags |= RING_CFG_TIMESTAMPS;
    }
    if (groups != NULL && groups != Py_None) {
        if (PyUnicode_Check(groups)) {
            PyErr_SetString(PyExc_TypeError,
                            "groups is a list of names, not one str");
            goto fail;
        }
        seq = PySequence_Fast(groups, "groups must be a list of names");
        if (seq == NULL) {
            goto fail;
        }
        for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            if (group_name(PySequence_Fast_GET_ITEM(seq, i)) == NULL) {
                goto fail;
            }
        }
    }
    if (single) {
        flags |= RING_OPEN_SINGLE_PRODUCER;
    }
    if (prefault) {
        flags |= RING_OPEN_PREFAULT;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = ring_create(PyBytes_AS_STRING(path), &cfg, flags, &r);
    Py_END_ALLOW_THREADS
    pathobj = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    if (pathobj == NULL && kw != NULL) {
        pathobj = PyDict_GetItemString(kw, "path");
    }
    if (pathobj == NULL) {
        pathobj = path;
    }
    if (rc < 0) {
        ring_error(rc, pathobj);
        goto fail;
    }
    for (i = 0; seq != NULL && i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *name = group_name(PySequence_Fast_GET_ITEM(seq, i));

        rc = ring_group_create(r, name, RING_FROM_OLDEST);
        if (rc < 0 && rc != -EEXIST) {
            ring_close(r);
            ring_unlink(PyBytes_AS_STRING(path));
            ring_error(rc, NULL);
            goto fail;
        }
    }
    ro = ring_wrap(r, pathobj, 'w');
    Py_XDECREF(seq);
    Py_DECREF(path);
    return (PyObject *)ro;

fail:
    Py_XDECREF(seq);
    Py_DECREF(path);
    return NULL;
}

/*
 * Open a private copy of the ring at @path: validated first through the
 * library (ring_open read-only: no symbolic link, the owner, the format),
 * copied into an unlinked file of our own in /dev/shm (or $TMPDIR), and
 * opened read-write there. Changes go to the copy only.
 */
static int
open_copy(const char *path, unsigned flags, struct ring **out)
{
    struct ring *orig;
    struct ring_stats st;
    struct stat sb;
    char tmp[PATH_MAX];
    const char *dir = "/dev/shm";
    int in = -1, cp = -1, rc;
    off_t left;

    rc = ring_open(path, RING_OPEN_RDONLY | (flags & RING_OPEN_FOREIGN),
                   &orig);
    if (rc < 0) {
        return rc;
    }
    rc = ring_stats(orig, &st);
    ring_close(orig);
    if (rc < 0) {
        return rc;
    }
    in = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) {
        return -errno;
    }
    if (fstat(in, &sb) < 0 || !S_ISREG(sb.st_mode)
        || (uint64_t)sb.st_size != st.file_size) {
        close(in);
        return -ENODATA;
    }
    if (access(dir, W_OK) != 0) {
        dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    }
    snprintf(tmp, sizeof(tmp), "%s/.libring-copy-%d-XXXXXX", dir,
             (int)getpid());
    cp = mkostemp(tmp, O_CLOEXEC);
    if (cp < 0) {
        rc = -errno;
        close(in);
        return rc;
    }
    for (left = sb.st_size; left > 0;) {
        ssize_t n = copy_file_range(in, NULL, cp, NULL, (size_t)left, 0);

        if (n <= 0) {
            rc = n < 0 ? -errno : -ENODATA;
            break;
        }
        left -= n;
    }
    close(in);
    close(cp);
    if (left == 0) {
        rc = ring_open(tmp, flags & ~RING_OPEN_FOREIGN, out);
    }
    unlink(tmp);
    return rc;
}

PyDoc_STRVAR(open_doc,
"open(path, mode='w', single_producer=False, prefault=False,\n"
"     foreign=False)\n--\n\n"
"Open an existing ring after validating it; returns a Ring. mode as for\n"
"mmap: 'w' read-write (produce and read groups), 'r' read-only (stats\n"
"only), 'c' a private copy for inspection: the file is copied and the\n"
"copy opened read-write, so reading its groups or anything else never\n"
"changes the ring (every process in the copy looks dead). prefault\n"
"touches every page now; single_producer promises that this handle is\n"
"the only producer anywhere (claims with a plain store); foreign accepts\n"
"a ring owned by another user.");

static PyObject *
mod_open(PyObject *mod, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "mode", "single_producer", "prefault",
                             "foreign", NULL};
    PyObject *path = NULL, *pathobj;
    const char *mode = "w";
    int single = 0, prefault = 0, foreign = 0, rc;
    unsigned flags = 0;
    struct ring *r;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|sppp:open", kwlist,
                                     PyUnicode_FSConverter, &path, &mode,
                                     &single, &prefault, &foreign)) {
        return NULL;
    }
    pathobj = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    if (pathobj == NULL && kw != NULL) {
        pathobj = PyDict_GetItemString(kw, "path");
    }
    if ((mode[0] != 'w' && mode[0] != 'r' && mode[0] != 'c')
        || mode[1] != '\0') {
        Py_DECREF(path);
        PyErr_SetString(PyExc_ValueError, "mode must be 'w', 'r' or 'c'");
        return NULL;
    }
    if (mode[0] == 'r') {
        flags |= RING_OPEN_RDONLY;
    }
    if (single) {
        flags |= RING_OPEN_SINGLE_PRODUCER;
    }
    if (prefault) {
        flags |= RING_OPEN_PREFAULT;
    }
    if (foreign) {
        flags |= RING_OPEN_FOREIGN;
    }
    Py_BEGIN_ALLOW_THREADS
    if (mode[0] == 'c') {
        rc = open_copy(PyBytes_AS_STRING(path), flags, &r);
    }
    else {
        rc = ring_open(PyBytes_AS_STRING(path), flags, &r);
    }
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        ring_error(rc, pathobj);
        Py_DECREF(path);
        return NULL;
    }
    Py_DECREF(path);
    return (PyObject *)ring_wrap(r, pathobj, mode[0]);
}

PyDoc_STRVAR(unlink_doc,
"unlink(path)\n--\n\n"
"Remove the ring file at path (processes that have it open go on using\n"
"it). Refuses anything that is not a ring file.");

static PyObject *
mod_unlink(PyObject *mod, PyObject *arg)
{
    PyObject *path = NULL;
    int rc;

    if (!PyUnicode_FSConverter(arg, &path)) {
        return NULL;
    }
    rc = ring_unlink(PyBytes_AS_STRING(path));
    Py_DECREF(path);
    if (rc < 0) {
        return ring_error(rc, arg);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(strerror_doc,
"strerror(err)\n--\n\n"
"libring's text for errno value err (the OSError's strerror).");

static PyObject *
mod_strerror(PyObject *mod, PyObject *arg)
{
    long e = PyLong_AsLong(arg);

    if (e == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (e < INT_MIN + 1 || e > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "err out of range");
        return NULL;
    }
    return PyUnicode_FromString(ring_strerror((int)e));
}

PyDoc_STRVAR(observe_doc,
"observe(path, from_='oldest')\n--\n\n"
"An Observer of the ring at path: read permission is enough, nothing in\n"
"the file is ever written, nobody waits for it (see Observer).");

static PyObject *
mod_observe(PyObject *mod, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "from_", NULL};
    PyObject *path, *from = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:observe", kwlist, &path,
                                     &from)) {
        return NULL;
    }
    return observer_new(path, from);
}

static PyMethodDef module_methods[] = {
    {"create", (PyCFunction)(void (*)(void))mod_create,
     METH_VARARGS | METH_KEYWORDS, create_doc},
    {"open", (PyCFunction)(void (*)(void))mod_open,
     METH_VARARGS | METH_KEYWORDS, open_doc},
    {"unlink", (PyCFunction)mod_unlink, METH_O, unlink_doc},
    {"observe", (PyCFunction)(void (*)(void))mod_observe,
     METH_VARARGS | METH_KEYWORDS, observe_doc},
    {"strerror", (PyCFunction)mod_strerror, METH_O, strerror_doc},
    {NULL}
};

PyDoc_STRVAR(module_doc,
"libring: messages between processes through one memory-mapped file.\n\n"
"    ring = libring.create('/dev/shm/jobs', capacity=1 << 20,\n"
"                          groups=['workers'])\n"
"    ring.send(b'hello', type=1)\n"
"    with ring.reserve(5) as buf:      # zero-copy\n"
"        buf[:] = b'world'\n\n"
"    with libring.open('/dev/shm/jobs') as ring:\n"
"        with ring.reader('workers') as reader:\n"
"            for msg in reader.messages(timeout=0):\n"
"                print(msg.type, bytes(msg.data))\n\n"
"Message data are read-only memoryviews into the mapping, valid until\n"
"the next message is taken. Errors are OSError subclasses with errno\n"
"and libring's text. Waiting calls release the GIL and let Ctrl-C\n"
"through. observe(path) gives an Observer: it reads without consuming,\n"
"with read permission only, and counts what producers overwrote before\n"
"it read it (Observer.lost) instead of returning torn bytes.");

static struct PyModuleDef libring_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "libring",
    .m_doc = module_doc,
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit_libring(void);

PyMODINIT_FUNC
PyInit_libring(void)
{
    PyObject *m;

    if (PyType_Ready(&Ring_Type) < 0 || PyType_Ready(&Reader_Type) < 0
        || PyType_Ready(&Buffer_Type) < 0 || PyType_Ready(&Message_Type) < 0
        || PyType_Ready(&Messages_Type) < 0
        || PyType_Ready(&Reservation_Type) < 0
        || PyType_Ready(&Observer_Type) < 0) {
        return NULL;
    }
    if (RingStats_Type == NULL) {
        RingStats_Type = named_tuple_class(&RingStats_desc);
        if (RingStats_Type == NULL) {
            return NULL;
        }
    }
    if (GroupStats_Type == NULL) {
        GroupStats_Type = named_tuple_class(&GroupStats_desc);
        if (GroupStats_Type == NULL) {
            return NULL;
        }
    }
    if (str_release == NULL) {
        str_release = PyUnicode_InternFromString("release");
        if (str_release == NULL) {
            return NULL;
        }
    }
    m = PyModule_Create(&libring_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Observer", (PyObject *)&Observer_Type) < 0
        || PyModule_AddObjectRef(m, "Ring", (PyObject *)&Ring_Type) < 0
        || PyModule_AddObjectRef(m, "Reader", (PyObject *)&Reader_Type) < 0
        || PyModule_AddObjectRef(m, "Message",
                                 (PyObject *)&Message_Type) < 0
        || PyModule_AddObjectRef(m, "Reservation",
                                 (PyObject *)&Reservation_Type) < 0
        || PyModule_AddObjectRef(m, "RingStats", RingStats_Type) < 0
        || PyModule_AddObjectRef(m, "GroupStats", GroupStats_Type) < 0
        || PyModule_AddIntConstant(m, "GROUP_NAME_MAX",
                                   RING_GROUP_NAME_MAX) < 0
        || PyModule_AddStringConstant(m, "__version__", LIBRING_VERSION)
           < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
