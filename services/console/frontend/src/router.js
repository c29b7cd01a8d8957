// One URL per page and per ticket (history mode: the console answers the page for each of these paths).
// Each route names the roles that may open it; the home page sends each role to its own workbench.
import { createRouter, createWebHistory } from 'vue-router';
import { session } from './api.js';
import { deskKit } from './elements/index.js';
import LoginView from './views/LoginView.vue';

/** The first page of each role after signing in. */
export const HOME_OF = {
  dept_dispatcher: '/queue', command_centre: '/board', admin: '/board', grid_worker: '/field', citizen: '/citizen',
};

const STAFF = ['grid_worker', 'dept_dispatcher', 'command_centre', 'admin'];
const DESK = ['dept_dispatcher', 'command_centre', 'admin'];
const CENTRE = ['command_centre', 'admin'];

// A desk page loads with the desk kit of Element Plus (tables, dialogs, descriptions... and Leaflet's CSS), which the
// grid worker's app and the citizen's pages never download.
const desk = (load) => () => Promise.all([deskKit(), load()]).then(([, page]) => page);

export const routes = [
  { path: '/login', component: LoginView, meta: { title: '登录', public: true } },
  { path: '/', redirect: () => HOME_OF[session.user?.role] || '/login' },
  // Workbench routes: each page's module is loaded when first opened.
  { path: '/tickets/:id', component: desk(() => import('./views/TicketDetailView.vue')), meta: { title: '工单详情', roles: STAFF } },
  { path: '/queue', component: desk(() => import('./views/QueueView.vue')), meta: { title: '部门工作台', roles: DESK } },
  { path: '/board', component: desk(() => import('./views/BoardView.vue')), meta: { title: '指挥中心', roles: CENTRE } },
  // 12345 工单录入: hotline operators sign in as the command centre.
  { path: '/hotline', component: desk(() => import('./views/HotlineView.vue')), meta: { title: '12345 工单录入', roles: CENTRE } },
  // The command centre's queues and lists (指挥中心工作台).
  { path: '/tickets', component: desk(() => import('./views/TicketListView.vue')), meta: { title: '工单列表', roles: CENTRE } },
  { path: '/triage', component: desk(() => import('./views/TriageView.vue')), meta: { title: '人工分拨', roles: CENTRE } },
  { path: '/returns', component: desk(() => import('./views/ReturnsView.vue')), meta: { title: '退单裁定', roles: CENTRE } },
  { path: '/extensions', component: desk(() => import('./views/ExtensionsView.vue')), meta: { title: '延期审批', roles: CENTRE } },
  { path: '/closing', component: desk(() => import('./views/ClosingView.vue')), meta: { title: '待结案', roles: CENTRE } },
  { path: '/indicators', component: desk(() => import('./views/IndicatorsView.vue')), meta: { title: '综合评价', roles: CENTRE } },
  // 风险一张图: hot spots, recurrences and surges from analytics; ECharts lives in this route's chunk only.
  { path: '/risk', component: desk(() => import('./views/RiskView.vue')), meta: { title: '风险一张图', roles: CENTRE } },
  // 感知告警: the cameras' and sensors' open alarm groups and devices on a map, and the false-positive rates.
  { path: '/rules', component: desk(() => import('./views/RulesView.vue')), meta: { title: '派遣规则', roles: CENTRE } },
  { path: '/sensing', component: desk(() => import('./views/SensingView.vue')), meta: { title: '感知告警', roles: CENTRE } },
  { path: '/map', component: desk(() => import('./views/MapView.vue')), meta: { title: '网格地图', roles: STAFF } },
  { path: '/field', component: () => import('./views/FieldView.vue'), meta: { title: '网格员', roles: ['grid_worker'] } },
  // The citizen's phone pages (随手拍): their own frame, their own login; the follow-up page needs no login.
  { path: '/citizen/login', component: () => import('./views/CitizenLoginView.vue'), meta: { title: '市民登录', public: true, citizen: true } },
  { path: '/citizen', component: () => import('./views/CitizenReportView.vue'), meta: { title: '随手拍', roles: ['citizen'], citizen: true } },
  { path: '/citizen/cases', component: () => import('./views/CitizenCasesView.vue'), meta: { title: '我的案件', roles: ['citizen'], citizen: true } },
  { path: '/citizen/rewards', component: () => import('./views/CitizenRewardsView.vue'), meta: { title: '我的积分', roles: ['citizen'], citizen: true } },
  { path: '/followups/:token', component: () => import('./views/FollowupView.vue'), meta: { title: '办理结果评价', public: true, citizen: true } },
  { path: '/:rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在', public: true } },
];

export const router = createRouter({ history: createWebHistory('/'), routes });

router.beforeEach((to) => {
  if (to.meta.public) return true;
  if (!session.user) return { path: to.meta.citizen ? '/citizen/login' : '/login', query: { next: to.fullPath } };
  if (to.meta.roles && !to.meta.roles.includes(session.user.role)) {
    return { path: HOME_OF[session.user.role] || '/login' };
  }
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title || ''} · 一网统管`;
});
