package handler

// SetTestHook makes f run at the named points of handler code ("handle",
// "later", "fetch-wait", "produce-durable") until the returned function is
// called. Tests make it panic.
func SetTestHook(f func(point string)) (restore func()) {
	testHook.Store(&f)
	return func() { testHook.Store(nil) }
}
