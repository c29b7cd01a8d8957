// The console's front end: one Vue application for every role, routed by URL (a URL per ticket).
import { createApp } from 'vue';
// Element Plus by the components the pages use, not the whole library: the phone on a slow network downloads
// the shell before anything shows (issue #14 measured 260 KB gzip for the whole library's JS). A page that
// starts using another `el-*` component adds it here. A child component (ElRadioButton, ElTableColumn, ElOption...)
// is installed by its parent's installer (ElRadio, ElTable, ElSelect...), so the parent must be in the list.
import {
  ElAlert, ElBadge, ElButton, ElButtonGroup, ElCard, ElCheckbox, ElCollapse, ElCollapseItem, ElDescriptions,
  ElDescriptionsItem, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem, ElIcon, ElImage, ElInput, ElInputNumber,
  ElLoading, ElOption, ElOptionGroup, ElPagination, ElRadio, ElRadioButton, ElRadioGroup, ElRate, ElResult, ElSelect,
  ElSkeleton, ElTable, ElTableColumn, ElTag, ElTimeline, ElTimelineItem, ElMessage, ElMessageBox, provideGlobalConfig,
} from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import 'element-plus/dist/index.css';
import 'leaflet/dist/leaflet.css';
import './app.css';
import App from './App.vue';
import { router } from './router.js';

const COMPONENTS = [
  ElAlert, ElBadge, ElButton, ElButtonGroup, ElCard, ElCheckbox, ElCollapse, ElCollapseItem, ElDescriptions,
  ElDescriptionsItem, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem, ElIcon, ElImage, ElInput, ElInputNumber,
  ElOption, ElOptionGroup, ElPagination, ElRadio, ElRadioButton, ElRadioGroup, ElRate, ElResult, ElSelect, ElSkeleton,
  ElTable, ElTableColumn, ElTag, ElTimeline, ElTimelineItem,
];

const app = createApp(App).use(router);
provideGlobalConfig({ locale: zhCn }, app, true);  // what ElementPlus's own installer does with its options
for (const component of [...COMPONENTS, ElLoading, ElMessage, ElMessageBox]) app.use(component);
app.mount('#app');
