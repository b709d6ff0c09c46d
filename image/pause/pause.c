/* Minimal pause process for pod sandboxes: PID 1 of every pod. Exits on SIGINT/SIGTERM, reaps
 * children on SIGCHLD, otherwise sleeps forever. Built with gcc -Os -static (no libc at runtime). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }
static void on_chld(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  struct sigaction term = {.sa_handler = on_term}, chld = {.sa_handler = on_chld, .sa_flags = SA_NOCLDSTOP};
  if (getpid() != 1) { /* still works, like upstream pause */ }
  sigaction(SIGINT, &term, NULL);
  sigaction(SIGTERM, &term, NULL);
  sigaction(SIGCHLD, &chld, NULL);
  for (;;) pause();
  return 0;
}
