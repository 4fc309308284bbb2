/* SPDX-License-Identifier: MIT */
/*
 * stream.h - producer and reader loops for byte-stream transports (pipes,
 * UNIX stream sockets): fixed-size messages back to back in the stream.
 */
#ifndef RING_BENCH_STREAM_H
#define RING_BENCH_STREAM_H

#include <stdint.h>

struct stream_writer;
struct stream_reader;

/* A writer sending each message to every one of @nfd descriptors, @batch
 * messages per write() call. Returns NULL (error printed) on failure. */
struct stream_writer *stream_writer_new(const int *fds, uint32_t nfd,
					uint32_t size, uint32_t batch);

/* Send @count messages numbered from @first. Returns 0 or -errno. */
int stream_write(void *st, uint64_t first, uint64_t count);

/* Free a writer (the descriptors are left open). */
void stream_writer_free(void *st);

/* A reader of the messages arriving on @nfd descriptors (poll()ed when
 * there are several). Returns NULL (error printed) on failure. */
struct stream_reader *stream_reader_new(const int *fds, uint32_t nfd,
					uint32_t size);

/* Take exactly @count messages, adding their first words to *@sum.
 * Returns 0 or -errno (-EPIPE when a stream ended early). */
int stream_read(void *st, uint64_t count, uint64_t *sum);

/* Free a reader (the descriptors are left open). */
void stream_reader_free(void *st);

#endif /* RING_BENCH_STREAM_H */
