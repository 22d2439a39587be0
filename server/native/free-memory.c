// One call Node does not offer: give the C allocator's free memory back to the system. glibc returns only the
// free top of its heap by itself; after a busy hour most free memory sits between blocks still in use, and
// malloc_trim(0) is what releases those pages (server/free-memory.ts calls it once a minute).
#include <malloc.h>
#include <node_api.h>

static napi_value return_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  napi_get_boolean(env, malloc_trim(0) == 1, &released);
  return released;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "returnFreeMemory", NAPI_AUTO_LENGTH, return_free_memory, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "returnFreeMemory", function) != napi_ok) return NULL;
  return exports;
}
