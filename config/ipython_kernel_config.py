# Copied by `make setup` into .venv/etc/ipython/, where every kernel started from the
# course's environment reads it (JupyterLab, nbval, `make refresh`, `make bench`).
#
# TensorFlow writes its C++ log (oneDNN, CUDA probing, CPU features) straight to the
# process's file descriptor 2. Since ipykernel 6 the kernel copies that descriptor into
# the notebook as stderr output, where it clutters slides and makes nbval fail on lines
# that change with every run (timestamps, process ids). With this setting the C++ log goes
# to the terminal that started Jupyter instead. Python warnings still reach the notebook.
c = get_config()  # noqa: F821 (provided by IPython when it loads this file)
c.IPKernelApp.capture_fd_output = False


# A trailing `;` hides a cell's value in Jupyter (`plots.image_grid(...);`). IPython decides
# that by looking at the last cell stored in its history, but nbval executes cells with
# store_history=False, so under nbval the `;` was ignored and every figure a plotting call
# returned was displayed twice. Read the cell being executed instead, as Jupyter effectively
# does, so the tests see exactly what a reader sees.
def _honour_semicolons_without_history():
    from IPython.core.displayhook import DisplayHook

    original = DisplayHook.quiet

    def quiet(self):
        result = getattr(self, "exec_result", None)
        info = getattr(result, "info", None)
        if info is not None and not info.store_history and info.raw_cell is not None:
            return self.semicolon_at_end_of_expression(info.raw_cell)
        return original(self)

    DisplayHook.quiet = quiet


_honour_semicolons_without_history()
