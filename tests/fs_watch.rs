//! `fs.watch` and `fs.watchFile`: the golden `tests/conformance/fs_watch.js` replayed,
//! one step every 40 ms as the script takes them.

mod util;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use millrace::reactor::Loop;
use millrace::streams::fs::{unwatch_file, watch, watch_file, FsWatcher, Stat, WatchFileOptions, WatchOptions};
use util::{check_golden, js_bool, watchdog};

type Step = Box<dyn FnOnce()>;

fn run_steps(lp: &Loop, steps: Rc<RefCell<VecDeque<Step>>>) {
    let lp2 = lp.clone();
    lp.set_timeout(40, move || {
        let f = steps.borrow_mut().pop_front();
        if let Some(f) = f {
            f();
            run_steps(&lp2, steps);
        }
    });
}

fn name(n: Option<&OsStr>) -> String {
    n.map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn sizes(curr: &Stat, prev: &Stat) -> String {
    let epoch = prev.mtime == std::time::UNIX_EPOCH;
    format!("{} {} {} {} {}", curr.size, prev.size, js_bool(curr.is_file()), js_bool(prev.is_file()), js_bool(epoch))
}

#[test]
fn golden() {
    let dir = std::env::temp_dir().join(format!("millrace-fs-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    check_golden("fs_watch", move |t, lp| {
        let _dog = watchdog(lp, 20_000);
        let rel = {
            let dir = d.to_string_lossy().into_owned();
            move |s: &str| s.replace(&dir, "DIR")
        };
        let p = |n: &str| -> PathBuf { d.join(n) };
        let mut steps: VecDeque<Step> = VecDeque::new();
        let w: Rc<RefCell<Option<FsWatcher>>> = Rc::default();
        let (t1, w1, dir) = (t.clone(), w.clone(), d.clone());
        steps.push_back(Box::new(move || {
            let t2 = t1.clone();
            let watcher = watch(
                &dir,
                WatchOptions::default(),
                Some(move |_: &FsWatcher, kind: &str, n: Option<&OsStr>| t2.log(format!("dir {kind} {}", name(n)))),
            )
            .unwrap();
            watcher.on_close(t1.on("dir close"));
            let t2 = t1.clone();
            watcher.on_error(move |_, e| t2.log(format!("dir error {}", e.code().unwrap_or(""))));
            *w1.borrow_mut() = Some(watcher);
            t1.log("watching dir");
        }));
        let a = p("a");
        steps.push_back(Box::new(move || std::fs::write(&a, "x").unwrap()));
        let a = p("a");
        steps.push_back(Box::new(move || append(&a, "y")));
        let a = p("a");
        steps.push_back(Box::new(move || {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600)).unwrap()
        }));
        let (a, b) = (p("a"), p("b"));
        steps.push_back(Box::new(move || std::fs::rename(&a, &b).unwrap()));
        let sub = p("sub");
        steps.push_back(Box::new(move || std::fs::create_dir(&sub).unwrap()));
        let b = p("b");
        steps.push_back(Box::new(move || std::fs::remove_file(&b).unwrap()));
        let (t1, w1, after) = (t.clone(), w.clone(), p("after-close"));
        steps.push_back(Box::new(move || {
            let watcher = w1.borrow().clone().unwrap();
            watcher.close();
            watcher.close();
            t1.log("closed dir watcher");
            std::fs::write(&after, "z").unwrap();
        }));
        let file = p("file");
        steps.push_back(Box::new(move || std::fs::write(&file, "abc").unwrap()));
        let (t1, w1, file) = (t.clone(), w.clone(), p("file"));
        steps.push_back(Box::new(move || {
            let watcher =
                watch(&file, WatchOptions::default(), None::<fn(&FsWatcher, &'static str, Option<&OsStr>)>).unwrap();
            let t2 = t1.clone();
            watcher.on_change(move |_, kind, n| t2.log(format!("file {kind} {}", name(n))));
            watcher.on_close(t1.on("file close"));
            *w1.borrow_mut() = Some(watcher);
            t1.log("watching file");
        }));
        let file = p("file");
        steps.push_back(Box::new(move || append(&file, "d")));
        let file = p("file");
        steps.push_back(Box::new(move || std::fs::remove_file(&file).unwrap()));
        let (t1, w1, missing, rel1) = (t.clone(), w.clone(), p("missing"), rel.clone());
        steps.push_back(Box::new(move || {
            w1.borrow().clone().unwrap().close();
            match watch(&missing, WatchOptions::default(), None::<fn(&FsWatcher, &'static str, Option<&OsStr>)>) {
                Ok(_) => t1.log("watch missing no throw"),
                Err(e) => {
                    let path = rel1(&e.path().unwrap().to_string_lossy());
                    t1.log(format!(
                        "watch missing throws {} -{} {} {path} {path} {}",
                        e.code().unwrap(),
                        e.sys_error().unwrap().errno(),
                        e.syscall().unwrap(),
                        rel1(&e.message())
                    ));
                }
            }
        }));
        let (t1, polled) = (t.clone(), p("polled"));
        let opts = WatchFileOptions { interval: 10, ..WatchFileOptions::default() };
        steps.push_back(Box::new(move || {
            std::fs::write(&polled, "one").unwrap();
            let t2 = t1.clone();
            let sw =
                watch_file(&polled, opts, move |_, curr, prev| t2.log(format!("polled change {}", sizes(curr, prev))));
            sw.on_stop(t1.on("polled stop"));
        }));
        let polled = p("polled");
        steps.push_back(Box::new(move || std::fs::write(&polled, "three").unwrap()));
        let (t1, polled) = (t.clone(), p("polled"));
        steps.push_back(Box::new(move || {
            unwatch_file(&polled, None);
            t1.log("unwatched");
        }));
        let (t1, later) = (t.clone(), p("later"));
        steps.push_back(Box::new(move || {
            watch_file(&later, opts, move |_, curr, prev| t1.log(format!("later change {}", sizes(curr, prev))));
        }));
        let later = p("later");
        steps.push_back(Box::new(move || std::fs::write(&later, "now").unwrap()));
        let (t1, later, dir) = (t.clone(), p("later"), d.clone());
        steps.push_back(Box::new(move || {
            unwatch_file(&later, None);
            std::fs::remove_dir_all(&dir).unwrap();
            t1.log("done");
        }));
        run_steps(lp, Rc::new(RefCell::new(steps)));
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn append(path: &Path, s: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(s.as_bytes()).unwrap();
}
