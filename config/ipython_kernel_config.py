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
