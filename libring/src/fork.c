// SPDX-License-Identifier: MIT
/*
 * fork.c - what happens to open handles across fork().
 *
 * Liveness rests on OFD locks, which belong to an open file description: a
 * child that inherited the descriptor would keep its parent's locks alive
 * after the parent died, and its producers' claims would never be
 * recovered. So in the child every inherited handle's descriptor is closed
 * and the handle is marked unusable (-ECHILD); the child opens the ring
 * again. The descriptors are O_CLOEXEC too, for fork+exec.
 */
#include <pthread.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ring *open_list;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&open_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&open_lock);
}

static void after_fork_child(void)
{
	for (struct ring *r = open_list; r; r = r->next_open) {
		if (!r->forked) {
			close(r->fd);
			r->fd = -1;
			r->forked = 1;
			r->send_in_run = false;
		}
	}
	pthread_mutex_unlock(&open_lock);
}

static void install_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Remember @r so that a fork() can disarm it in the child. */
void rl_register_handle(struct ring *r)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&open_lock);
	r->next_open = open_list;
	open_list = r;
	pthread_mutex_unlock(&open_lock);
}

/* Forget @r (ring_close). */
void rl_unregister_handle(struct ring *r)
{
	pthread_mutex_lock(&open_lock);
	for (struct ring **pp = &open_list; *pp; pp = &(*pp)->next_open) {
		if (*pp == r) {
			*pp = r->next_open;
			break;
		}
	}
	pthread_mutex_unlock(&open_lock);
}
