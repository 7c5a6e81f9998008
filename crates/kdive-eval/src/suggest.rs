//! "Did you mean" suggestions: the known names closest to a mistyped one.

/// Levenshtein distance, bounded: returns `max + 1` as soon as the distance exceeds `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        let mut row_min = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            row_min = row_min.min(v);
            cur.push(v);
        }
        if row_min > max {
            return max + 1;
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to `limit` names from `candidates` within a small edit distance of `name`, closest first
/// (ties by name). The bound grows with the name's length: 1 for one- and two-letter names,
/// then 2, up to 3.
pub fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let n = name.chars().count();
    let max = if n <= 2 { 1 } else { (n / 4).clamp(2, 3) };
    let mut found: Vec<(usize, &str)> = candidates
        .filter(|c| *c != name)
        .filter_map(|c| {
            let d = edit_distance(name, c, max);
            (d <= max).then_some((d, c))
        })
        .collect();
    found.sort();
    found.dedup();
    found
        .into_iter()
        .take(limit)
        .map(|(_, n)| n.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("jiffies", "jiffies", 3), 0);
        assert_eq!(edit_distance("jifies", "jiffies", 3), 1);
        assert_eq!(edit_distance("abc", "xyzxyzxyz", 2), 3);
        let c = ["jiffies", "jiffies_64", "init_task", "jiffy"];
        assert_eq!(
            closest("jifies", c.iter().copied(), 3),
            vec!["jiffies".to_string()]
        );
    }
}
