/* A warm Node.js that forks one fresh process per JavaScript program (see zygote.js and ../js.py).

   Node has no fork(), and a plain fork() of a running node is not usable: V8 marks its heap pages
   MADV_DONTFORK, and the threads that run V8's background work (and that node joins at exit) do not exist in
   the child. This library fixes exactly those three things:

   * before each fork the whole address space is marked MADV_DOFORK again;
   * node's NodePlatform sends V8's worker-thread tasks to a queue of our own, served by threads that are
     started again in every child (two vtable slots, patched once when the library is loaded);
   * in a forked child, node's join of a thread from before the fork means node is tearing the process
     down after the program has finished: the process ends there, with the exit code of its 'exit' event.

   It is loaded twice under one handle: with LD_PRELOAD (so that its pthread_create/pthread_join wrap node's)
   and as node's addon (serve, setExitCode). Protocol on the control socket (SOCK_SEQPACKET, one message per
   program): "<cpu seconds>\0<working directory>\0<main script>\0" with three descriptors (standard input,
   output and error) -> "<pid>" of the program's process, or "-<errno>". The program's process is the child
   of our parent (the batch server, a child subreaper or pid 1) once the intermediate process has exited. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The few N-API and libuv entry points used, declared here (both are stable C ABIs exported by node). */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
typedef struct uv_loop_s uv_loop_t;
int napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
int napi_set_named_property(napi_env, napi_value, const char *, napi_value);
int napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
int napi_get_value_int32(napi_env, napi_value, int32_t *);
int napi_create_string_utf8(napi_env, const char *, size_t, napi_value *);
int napi_create_int32(napi_env, int32_t, napi_value *);
int napi_create_object(napi_env, napi_value *);
int napi_get_uv_event_loop(napi_env, uv_loop_t **);
int napi_throw_error(napi_env, const char *, const char *);
int uv_loop_fork(uv_loop_t *);

#define WORKER_THREADS 2
#define MAX_JOB_BYTES 8192

/* ---- V8's worker-thread tasks: our queue and threads ---------------------------------------------------- */

struct task_item {
    void *task; /* a v8::Task*, owned */
    double due; /* CLOCK_MONOTONIC seconds */
    struct task_item *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_changed = PTHREAD_COND_INITIALIZER;
static struct task_item *queue;
static int tasks_running;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* v8::Task's vtable (Itanium ABI): [0] complete destructor, [1] deleting destructor, [2] Run. */
static void run_and_delete(void *task) {
    void (**vtable)(void *) = *(void (***)(void *))task;
    vtable[2](task);
    vtable[1](task);
}

static struct task_item *take_due(double now, double *next_due) {
    struct task_item **best = NULL;
    *next_due = -1;
    for (struct task_item **at = &queue; *at; at = &(*at)->next) {
        if ((*at)->due <= now && (!best || (*at)->due < (*best)->due)) best = at;
        if ((*at)->due > now && (*next_due < 0 || (*at)->due < *next_due)) *next_due = (*at)->due;
    }
    if (!best) return NULL;
    struct task_item *item = *best;
    *best = item->next;
    return item;
}

static void *serve_tasks(void *unused) {
    (void)unused;
    pthread_mutex_lock(&queue_lock);
    for (;;) {
        double next_due;
        struct task_item *item = take_due(now_seconds(), &next_due);
        if (!item) {
            if (next_due < 0) {
                pthread_cond_wait(&queue_changed, &queue_lock);
            } else {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                double wait = next_due - now_seconds();
                until.tv_sec += (time_t)wait;
                until.tv_nsec += (long)((wait - (time_t)wait) * 1e9);
                if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
                pthread_cond_timedwait(&queue_changed, &queue_lock, &until);
            }
            continue;
        }
        tasks_running++;
        pthread_mutex_unlock(&queue_lock);
        run_and_delete(item->task);
        free(item);
        pthread_mutex_lock(&queue_lock);
        tasks_running--;
        pthread_cond_broadcast(&queue_changed);
    }
    return NULL;
}

static void enqueue(void **task_slot, double delay) {
    struct task_item *item = malloc(sizeof *item);
    item->task = *task_slot; /* a std::unique_ptr<v8::Task> passed by reference: take what it owns */
    *task_slot = NULL;
    item->due = now_seconds() + (delay > 0 ? delay : 0);
    pthread_mutex_lock(&queue_lock);
    item->next = queue;
    queue = item;
    pthread_cond_signal(&queue_changed);
    pthread_mutex_unlock(&queue_lock);
}

static void call_on_worker_thread(void *platform, void **task_slot) {
    (void)platform;
    enqueue(task_slot, 0);
}

static void call_delayed_on_worker_thread(void *platform, void **task_slot, double delay) {
    (void)platform;
    enqueue(task_slot, delay);
}

static int start_task_threads(void) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < WORKER_THREADS; i++) {
        pthread_t thread;
        if (pthread_create(&thread, &attributes, serve_tasks, NULL) != 0) return -1;
    }
    pthread_attr_destroy(&attributes);
    return 0;
}

/* Point node::NodePlatform's two worker-thread slots at our queue. -1 when this node does not look as
   expected (the caller then runs programs without the zygote). */
static int patch_node_platform(void) {
    void **vtable = dlsym(RTLD_DEFAULT, "_ZTVN4node12NodePlatformE");
    void *call = dlsym(RTLD_DEFAULT, "_ZN4node12NodePlatform18CallOnWorkerThreadESt10unique_ptrIN2v84TaskESt14default_deleteIS3_EE");
    void *delayed = dlsym(RTLD_DEFAULT, "_ZN4node12NodePlatform25CallDelayedOnWorkerThreadESt10unique_ptrIN2v84TaskESt14default_deleteIS3_EEd");
    if (!vtable || !call || !delayed) return -1;
    int call_slot = -1, delayed_slot = -1;
    for (int i = 2; i < 64; i++) {
        if (vtable[i] == call) call_slot = i;
        if (vtable[i] == delayed) delayed_slot = i;
    }
    if (call_slot < 0 || delayed_slot < 0) return -1;
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)vtable & ~(uintptr_t)(page - 1);
    size_t length = (uintptr_t)(vtable + 64) - first;
    if (mprotect((void *)first, length, PROT_READ | PROT_WRITE) != 0) return -1;
    vtable[call_slot] = (void *)call_on_worker_thread;
    vtable[delayed_slot] = (void *)call_delayed_on_worker_thread;
    mprotect((void *)first, length, PROT_READ);
    return 0;
}

/* ---- Math.random ------------------------------------------------------------------------------------------ */

/* V8 entry points that give every program its own Math.random sequence, as a fresh node would (a copy of the
   zygote would otherwise replay the zygote's). Found with dlsym; a node without them gets no zygote. */
typedef void *(*current_isolate_fn)(void);
typedef void **(*current_context_fn)(void *isolate); /* Local<Context>: a handle slot holding the context */
typedef void *(*isolate_rng_fn)(void *isolate);
typedef void (*set_seed_fn)(void *rng, int64_t seed);
typedef void (*reset_context_fn)(void *native_context);
static current_isolate_fn current_isolate;
static current_context_fn current_context;
static isolate_rng_fn isolate_rng;
static set_seed_fn set_seed;
static reset_context_fn reset_math_random;

static int find_math_random(void) {
    current_isolate = (current_isolate_fn)dlsym(RTLD_DEFAULT, "_ZN2v87Isolate10GetCurrentEv");
    current_context = (current_context_fn)dlsym(RTLD_DEFAULT, "_ZN2v87Isolate17GetCurrentContextEv");
    isolate_rng = (isolate_rng_fn)dlsym(RTLD_DEFAULT, "_ZN2v88internal7Isolate23random_number_generatorEv");
    set_seed = (set_seed_fn)dlsym(RTLD_DEFAULT, "_ZN2v84base21RandomNumberGenerator7SetSeedEl");
    reset_math_random = (reset_context_fn)dlsym(RTLD_DEFAULT, "_ZN2v88internal10MathRandom12ResetContextENS0_7ContextE");
    return current_isolate && current_context && isolate_rng && set_seed && reset_math_random ? 0 : -1;
}

static int reseed_math_random(void) {
    int64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) return -1;
    void *isolate = current_isolate();
    set_seed(isolate_rng(isolate), seed);
    reset_math_random(*current_context(isolate)); /* the next Math.random() seeds itself from the new seed */
    return 0;
}

/* ---- node's threads in a forked child --------------------------------------------------------------------- */

static int in_program; /* this process is a program's (forked from the zygote) */
static pid_t zygote_parent;
static int exit_code;  /* the code of the program's 'exit' event (setExitCode) */
#define MAX_PROGRAM_THREADS 1024
static pthread_t threads_of_program[MAX_PROGRAM_THREADS];
static int thread_count;

int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*run)(void *), void *argument) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_create");
    int failed = real(thread, attributes, run, argument);
    if (!failed && in_program && thread_count < MAX_PROGRAM_THREADS) threads_of_program[thread_count++] = *thread;
    return failed;
}

int pthread_join(pthread_t thread, void **result) {
    static int (*real)(pthread_t, void **);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_join");
    if (in_program) {
        int started_here = 0;
        for (int i = 0; i < thread_count; i++) started_here |= pthread_equal(threads_of_program[i], thread);
        if (!started_here) { /* node's teardown: the program is done, and this thread died with the fork */
            fflush(NULL);
            _exit(exit_code);
        }
    }
    return real(thread, result);
}

/* ---- serving programs ------------------------------------------------------------------------------------- */

struct job {
    int cpu_seconds;
    char directory[4096];
    char main_script[4096];
    int fds[3];
};

static int receive_job(int control, struct job *job) {
    char buffer[MAX_JOB_BYTES + 1];
    char ancillary[CMSG_SPACE(3 * sizeof(int))];
    struct iovec part = {buffer, MAX_JOB_BYTES};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = ancillary,
                             .msg_controllen = sizeof ancillary};
    ssize_t length = recvmsg(control, &message, MSG_CMSG_CLOEXEC);
    if (length <= 0) return -1;
    buffer[length] = 0;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(3 * sizeof(int))) return -1;
    memcpy(job->fds, CMSG_DATA(header), sizeof job->fds);
    const char *directory = buffer + strlen(buffer) + 1;
    const char *main_script = directory + strlen(directory) + 1;
    if (main_script >= buffer + length || strlen(directory) >= sizeof job->directory ||
        strlen(main_script) >= sizeof job->main_script)
        return -1;
    job->cpu_seconds = atoi(buffer);
    strcpy(job->directory, directory);
    strcpy(job->main_script, main_script);
    return 0;
}

/* What another process of our uid could have changed about the zygote (prlimit, setpriority,
   sched_setaffinity, sched_setscheduler, ioprio_set), which every later program would inherit. */
struct process_state {
    struct rlimit limits[RLIM_NLIMITS];
    int priority, policy;
    long io_priority;
    cpu_set_t cpus;
};

static void read_process_state(struct process_state *state) {
    memset(state, 0, sizeof *state);
    for (int resource = 0; resource < RLIM_NLIMITS; resource++) getrlimit(resource, &state->limits[resource]);
    errno = 0;
    state->priority = getpriority(PRIO_PROCESS, 0);
    state->policy = sched_getscheduler(0);
    state->io_priority = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
    if (state->io_priority >= 0 && state->io_priority >> 13 == 0) /* no class: as forkserver.io_priority */
        state->io_priority = 2L << 13 | (state->priority + 20) / 5;
    sched_getaffinity(0, sizeof state->cpus, &state->cpus);
}

static void wait_for_idle_task_threads(void) {
    pthread_mutex_lock(&queue_lock);
    while (tasks_running) pthread_cond_wait(&queue_changed, &queue_lock);
}

static void wait_until_closed(int fd) {
    char byte;
    while (read(fd, &byte, 1) < 0 && errno == EINTR) {
    }
    close(fd);
}

/* In the program's process, before any of its code: what `node <main_script>` started by the batch server
   would have (its own session, the CPU limit, the three streams, nothing else open; zygote.js changes into
   its working directory, because node caches process.cwd()). */
static int become_program(struct job *job, int control, uv_loop_t *loop) {
    in_program = 1;
    pthread_mutex_init(&queue_lock, NULL);
    pthread_cond_init(&queue_changed, NULL);
    tasks_running = 0;
    prctl(PR_SET_DUMPABLE, 1);
    setsid();
    struct rlimit cpu;
    getrlimit(RLIMIT_CPU, &cpu);
    rlim_t limit = (rlim_t)job->cpu_seconds;
    if (cpu.rlim_max != RLIM_INFINITY && cpu.rlim_max < limit) limit = cpu.rlim_max;
    cpu.rlim_cur = cpu.rlim_max = limit;
    for (int target = 0; target < 3; target++)
        if (dup2(job->fds[target], target) < 0) return -1;
    for (int i = 0; i < 3; i++) close(job->fds[i]);
    close(control);
    if (setrlimit(RLIMIT_CPU, &cpu) != 0) return -1;
    if (uv_loop_fork(loop) != 0 || start_task_threads() != 0) return -1;
    return 0;
}

static void reply(int control, long value) {
    char text[32];
    int length = snprintf(text, sizeof text, "%ld", value);
    send(control, text, (size_t)length, MSG_NOSIGNAL);
}

/* Fork twice, so that the program's process is adopted by our parent: its pid, or -errno. Returns 1 in the
   program's process. */
static int fork_program(struct job *job, int control, uv_loop_t *loop, long *pid) {
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) != 0) return *pid = -errno, 0;
    madvise((void *)4096, ((uintptr_t)1 << 47) - 8192, MADV_DOFORK); /* holes make it fail; the rest is done */
    wait_for_idle_task_threads(); /* no task of ours is half-run in a copy */
    pid_t intermediate = fork();
    if (intermediate == 0) {
        int gate[2]; /* held open by the intermediate process only, until it has exited */
        if (pipe2(gate, O_CLOEXEC) != 0) _exit(1);
        pid_t program = fork();
        if (program == 0) {
            close(channel[0]);
            close(channel[1]);
            close(gate[1]);
            wait_until_closed(gate[0]); /* no program sees, or can signal, a process of the zygote's but it */
            if (become_program(job, control, loop) != 0) _exit(127);
            return 1;
        }
        long sent = program > 0 ? program : -errno;
        if (write(channel[1], &sent, sizeof sent) != sizeof sent) _exit(1);
        _exit(0);
    }
    pthread_mutex_unlock(&queue_lock);
    close(channel[1]);
    *pid = -EIO;
    if (intermediate < 0) {
        *pid = -errno;
    } else {
        while (waitpid(intermediate, NULL, 0) < 0 && errno == EINTR) {
        }
        if (read(channel[0], pid, sizeof *pid) != sizeof *pid) *pid = -EIO;
    }
    close(channel[0]);
    return 0;
}

/* {main, directory, pid, ppid} for zygote.js: node caches process.pid and ppid, which a copy gets wrong. */
static napi_value describe_program(napi_env env, struct job *job) {
    napi_value result, value;
    napi_create_object(env, &result);
    napi_create_string_utf8(env, job->main_script, strlen(job->main_script), &value);
    napi_set_named_property(env, result, "main", value);
    napi_create_string_utf8(env, job->directory, strlen(job->directory), &value);
    napi_set_named_property(env, result, "directory", value);
    napi_create_int32(env, getpid(), &value);
    napi_set_named_property(env, result, "pid", value);
    napi_create_int32(env, zygote_parent, &value);
    napi_set_named_property(env, result, "ppid", value);
    return result;
}

/* serve(controlFd): never returns in the zygote; in each program's process, returns describe_program's. */
static napi_value serve(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    int32_t control;
    uv_loop_t *loop;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1 || napi_get_value_int32(env, argv[0], &control) != 0 || napi_get_uv_event_loop(env, &loop) != 0) {
        napi_throw_error(env, NULL, "serve(controlFd)");
        return NULL;
    }
    zygote_parent = getppid(); /* the batch server, which adopts each program's process */
    signal(SIGUSR1, SIG_IGN); /* a program must not start an inspector in the zygote (it would reach the next) */
    prctl(PR_SET_DUMPABLE, 0); /* nor read or trace it */
    struct process_state at_start, now;
    read_process_state(&at_start);
    reply(control, 0); /* ready */
    for (;;) {
        struct job job;
        if (receive_job(control, &job) != 0) _exit(0); /* the batch server is gone, or spoke nonsense */
        long pid;
        read_process_state(&now);
        if (memcmp(&now, &at_start, sizeof now) != 0) {
            reply(control, -EPERM); /* the batch server starts a fresh zygote */
            _exit(1);
        }
        if (fork_program(&job, control, loop, &pid)) {
            if (reseed_math_random() != 0) _exit(127);
            return describe_program(env, &job);
        }
        for (int i = 0; i < 3; i++) close(job.fds[i]);
        reply(control, pid);
    }
}

static napi_value set_exit_code(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc >= 1) napi_get_value_int32(env, argv[0], &exit_code);
    return NULL;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
    static int patched;
    if (!patched) {
        if (find_math_random() != 0 || patch_node_platform() != 0 || start_task_threads() != 0) {
            napi_throw_error(env, NULL, "this node's platform cannot be served by the zygote");
            return NULL;
        }
        patched = 1;
    }
    napi_value function;
    napi_create_function(env, "serve", 5, serve, NULL, &function);
    napi_set_named_property(env, exports, "serve", function);
    napi_create_function(env, "setExitCode", 11, set_exit_code, NULL, &function);
    napi_set_named_property(env, exports, "setExitCode", function);
    return exports;
}
